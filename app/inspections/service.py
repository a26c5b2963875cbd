from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud
from app.core.pagination import Page, between, eq, page_of, paginate, where
from app.core.repository import Repository
from app.inspections.schemas import InspectionCreate, InspectionQuery, InspectionRead
from app.models import Inspection


def repo(session: AsyncSession) -> Repository[Inspection]:
    return Repository(session, Inspection)


async def list_inspections(session: AsyncSession, query: InspectionQuery) -> Page[InspectionRead]:
    stmt = select(Inspection).where(
        *where(
            eq(Inspection.work_order_id, query.work_order_id),
            eq(Inspection.machine_id, query.machine_id),
            eq(Inspection.welder_id, query.welder_id),
            eq(Inspection.inspector_id, query.inspector_id),
            eq(Inspection.method, query.method),
            eq(Inspection.result, query.result),
            eq(Inspection.quality_level, query.quality_level),
            eq(Inspection.weld_reference, query.weld_reference),
            between(Inspection.inspected_at, query.inspected_from, query.inspected_to),
        )
    )
    rows, total = await paginate(
        session, stmt, query, sort=getattr(Inspection, query.sort_by), tiebreak=Inspection.id
    )
    return page_of([InspectionRead.model_validate(r) for r in rows], total, query)


async def create_inspection(session: AsyncSession, body: InspectionCreate) -> Inspection:
    return await crud.create(repo(session), body)


async def replace_inspection(
    session: AsyncSession, inspection_id: int, body: InspectionCreate, if_match: str | None
) -> Inspection:
    inspections = repo(session)
    inspection = await inspections.get_for_write(inspection_id, if_match)
    return await crud.replace(inspections, inspection, body)


async def patch_inspection(
    session: AsyncSession, inspection_id: int, patch: BaseModel, if_match: str | None
) -> Inspection:
    inspections = repo(session)
    inspection = await inspections.get_for_write(inspection_id, if_match)
    merged = crud.merge(InspectionCreate, inspection, patch)
    return await crud.replace(inspections, inspection, merged)


async def delete_inspection(
    session: AsyncSession, inspection_id: int, if_match: str | None
) -> None:
    inspections = repo(session)
    await inspections.delete(await inspections.get_for_write(inspection_id, if_match))
