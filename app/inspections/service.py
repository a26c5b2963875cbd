from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud
from app.core.pagination import (
    Page,
    between,
    eq,
    export_statement,
    page_of,
    paginate,
    where,
)
from app.core.repository import Repository
from app.inspections.schemas import (
    InspectionCreate,
    InspectionExport,
    InspectionQuery,
    InspectionRead,
)
from app.models import Inspection


def repo(session: AsyncSession) -> Repository[Inspection]:
    return Repository(session, Inspection)


def _filters(query: InspectionQuery) -> list[Any]:
    return where(
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


async def list_inspections(session: AsyncSession, query: InspectionQuery) -> Page[InspectionRead]:
    stmt = select(Inspection).where(*_filters(query))
    rows, total = await paginate(
        session, stmt, query, sort=getattr(Inspection, query.sort_by), tiebreak=Inspection.id
    )
    return page_of([InspectionRead.model_validate(r) for r in rows], total, query)


EXPORT_COLUMNS = (
    "id",
    "inspected_at",
    "work_order_id",
    "machine_id",
    "welder_id",
    "inspector_id",
    "method",
    "result",
    "weld_reference",
    "quality_level",
    "defects",
    "notes",
    "created_at",
)


def export_inspections(query: InspectionExport) -> tuple[list[str], Select[Any]]:
    stmt = export_statement(Inspection, EXPORT_COLUMNS, _filters(query), query)
    return list(EXPORT_COLUMNS), stmt


async def create_inspection(session: AsyncSession, body: InspectionCreate) -> Inspection:
    return await crud.create(repo(session), body)


async def replace_inspection(
    session: AsyncSession, inspection_id: int, body: InspectionCreate, if_match: str | None
) -> Inspection:
    return await crud.replace_by_id(repo(session), inspection_id, body, if_match)


async def patch_inspection(
    session: AsyncSession, inspection_id: int, patch: BaseModel, if_match: str | None
) -> Inspection:
    return await crud.patch_by_id(repo(session), InspectionCreate, inspection_id, patch, if_match)


async def delete_inspection(
    session: AsyncSession, inspection_id: int, if_match: str | None
) -> None:
    await crud.delete_by_id(repo(session), inspection_id, if_match)
