from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud, history
from app.core.history import History
from app.core.pagination import Page, contains_any, eq, page_of, paginate, where
from app.equipment.schemas import (
    CalibrationCreate,
    CalibrationRead,
    EquipmentCreate,
    EquipmentQuery,
    EquipmentRead,
)
from app.models import Calibration, CheckResult, Equipment

CALIBRATIONS = History(
    record=Calibration,
    owner=Equipment,
    owner_key="equipment_id",
    day="calibrated_on",
    interval="calibration_interval_days",
    last="last_calibration_date",
    due="next_calibration_due",
    read=CalibrationRead,
)
TYPED = "entered as the equipment's last_calibration_date"


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


async def _record_typed(
    session: AsyncSession, equipment_id: int, body: EquipmentCreate, before: date | None
) -> None:
    """A new `last_calibration_date` sent with the equipment is a calibration: recorded as a
    `pass` (the field never said more), unless the history has that day already."""
    day = body.last_calibration_date
    if day is None or day == before:
        return
    if await history.has_day(session, CALIBRATIONS, equipment_id, day):
        return
    record = CalibrationCreate(calibrated_on=day, result=CheckResult.passed, notes=TYPED)
    interval = body.calibration_interval_days
    await history.insert(
        session, CALIBRATIONS, equipment_id, record, interval, body.next_calibration_due
    )


async def _write(session: AsyncSession, equipment: Equipment, body: EquipmentCreate) -> Equipment:
    """Write `body` with `next_calibration_due` derived; once the equipment has calibration
    records, its last date and due date are theirs (ADR 0031)."""
    body = _derive_due(body)
    await _record_typed(session, equipment.id, body, equipment.last_calibration_date)
    values = await history.derived(
        session, CALIBRATIONS, equipment.id, body.calibration_interval_days
    )
    return await crud.update(session, equipment, body.model_copy(update=values or {}))


async def create_equipment(session: AsyncSession, body: EquipmentCreate) -> Equipment:
    """Create with `next_calibration_due` derived (`_derive_due`); a `last_calibration_date`
    becomes its first calibration record."""
    body = _derive_due(body)
    equipment = await crud.create(session, Equipment, body)
    await _record_typed(session, equipment.id, body, None)
    return equipment


async def replace_equipment(
    session: AsyncSession, equipment_id: int, body: EquipmentCreate, if_match: str | None
) -> Equipment:
    """Replace, keeping the calibration fields in step with the history (`_write`)."""
    equipment = await crud.get_for_write(session, Equipment, equipment_id, if_match)
    return await _write(session, equipment, body)


async def patch_equipment(
    session: AsyncSession, equipment_id: int, patch: BaseModel, if_match: str | None
) -> Equipment:
    """Patch the merged row, keeping the calibration fields in step (`_write`)."""
    equipment = await crud.get_for_write(session, Equipment, equipment_id, if_match)
    return await _write(session, equipment, crud.merge(EquipmentCreate, equipment, patch))
