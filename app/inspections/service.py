from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, and_, select, update
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
from app.models import Inspection, InspectionResult


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
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(Inspection, query.sort_by), tiebreak=Inspection.id
    )
    return page_of([InspectionRead.model_validate(r) for r in rows], counted, query)


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


async def refresh_weld(
    session: AsyncSession,
    work_order_id: int | None,
    weld_reference: str | None,
    inspection_id: int | None,
) -> None:
    """Recompute `first_of_weld` and `weld_repaired` for one weld (its work order + weld
    reference; an inspection without a reference is a weld of its own)."""
    keep = {"updated_at": Inspection.updated_at}  # derived fields: not an edit of the rows
    if weld_reference is None:
        if inspection_id is not None:
            await session.execute(
                update(Inspection)
                .where(Inspection.id == inspection_id)
                .values(
                    first_of_weld=True,
                    weld_repaired=Inspection.result != InspectionResult.passed,
                    **keep,
                )
                .execution_options(synchronize_session=False)
            )
        return
    same_order = (
        Inspection.work_order_id.is_(None)
        if work_order_id is None
        else Inspection.work_order_id == work_order_id
    )
    same = and_(same_order, Inspection.weld_reference == weld_reference)
    rows = (
        await session.execute(
            select(Inspection.id, Inspection.result)
            .where(same)
            .order_by(Inspection.inspected_at, Inspection.id)
        )
    ).all()
    if not rows:
        return
    repaired = any(result != InspectionResult.passed for _, result in rows)
    await session.execute(
        update(Inspection)
        .where(same)
        .values(first_of_weld=Inspection.id == rows[0][0], weld_repaired=repaired, **keep)
        .execution_options(synchronize_session=False)
    )


def _weld(inspection: Inspection) -> tuple[int | None, str | None, int]:
    return inspection.work_order_id, inspection.weld_reference, inspection.id


async def _written(
    session: AsyncSession, inspection: Inspection, before: tuple[int | None, str | None, int] | None
) -> Inspection:
    if before is not None and before != _weld(inspection):
        await refresh_weld(session, *before)
    await refresh_weld(session, *_weld(inspection))
    return inspection


async def create_inspection(session: AsyncSession, body: InspectionCreate) -> Inspection:
    return await _written(session, await crud.create(repo(session), body), None)


async def replace_inspection(
    session: AsyncSession, inspection_id: int, body: InspectionCreate, if_match: str | None
) -> Inspection:
    inspections = repo(session)
    inspection = await inspections.get_for_write(inspection_id, if_match)
    before = _weld(inspection)
    return await _written(session, await crud.replace(inspections, inspection, body), before)


async def patch_inspection(
    session: AsyncSession, inspection_id: int, patch: BaseModel, if_match: str | None
) -> Inspection:
    inspections = repo(session)
    inspection = await inspections.get_for_write(inspection_id, if_match)
    before = _weld(inspection)
    merged = crud.merge(InspectionCreate, inspection, patch)
    return await _written(session, await crud.replace(inspections, inspection, merged), before)


async def delete_inspection(
    session: AsyncSession, inspection_id: int, if_match: str | None
) -> None:
    inspections = repo(session)
    inspection = await inspections.get_for_write(inspection_id, if_match)
    work_order_id, weld_reference, _ = _weld(inspection)
    await inspections.delete(inspection)
    await refresh_weld(session, work_order_id, weld_reference, None)
