from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud
from app.core.pagination import Page, contains_any, eq, page_of, paginate, where
from app.equipment.schemas import EquipmentCreate, EquipmentQuery, EquipmentRead
from app.models import Equipment


def _derive_due(body: EquipmentCreate) -> EquipmentCreate:
    """next_calibration_due = last calibration + interval, when both are known."""
    if body.last_calibration_date is None or body.calibration_interval_days is None:
        return body
    due = body.last_calibration_date + timedelta(days=body.calibration_interval_days)
    return body.model_copy(update={"next_calibration_due": due})


async def list_equipment(session: AsyncSession, query: EquipmentQuery) -> Page[EquipmentRead]:
    due_before = query.calibration_due_before
    stmt = select(Equipment).where(
        *where(
            eq(Equipment.status, query.status),
            eq(Equipment.type, query.type),
            eq(Equipment.machine_id, query.machine_id),
            eq(Equipment.location, query.location),
            contains_any(query.q, Equipment.code, Equipment.name),
            Equipment.next_calibration_due <= due_before if due_before else None,
        )
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(Equipment, query.sort_by), tiebreak=Equipment.id
    )
    return page_of([EquipmentRead.model_validate(r) for r in rows], counted, query)


async def create_equipment(session: AsyncSession, body: EquipmentCreate) -> Equipment:
    """Create with `next_calibration_due` derived (`_derive_due`)."""
    return await crud.create(session, Equipment, _derive_due(body))


async def replace_equipment(
    session: AsyncSession, equipment_id: int, body: EquipmentCreate, if_match: str | None
) -> Equipment:
    """Replace with `next_calibration_due` derived (`_derive_due`)."""
    return await crud.replace(session, Equipment, equipment_id, _derive_due(body), if_match)


async def patch_equipment(
    session: AsyncSession, equipment_id: int, patch: BaseModel, if_match: str | None
) -> Equipment:
    """Patch, deriving `next_calibration_due` from the merged row (`_derive_due`)."""
    return await crud.patch(
        session, Equipment, EquipmentCreate, equipment_id, patch, if_match, _derive_due
    )
