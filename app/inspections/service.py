from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud
from app.core.errors import field_error, invalid_fields
from app.core.pagination import (
    Page,
    between,
    eq,
    export_statement,
    page_of,
    paginate,
    where,
)
from app.inspections import totals
from app.inspections.schemas import (
    InspectionCreate,
    InspectionExport,
    InspectionQuery,
    InspectionRead,
)
from app.models import Inspection, InspectionResult
from app.models import Weld as RegisteredWeld


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


Weld = tuple[int | None, str | None, int | None]  # work order, weld reference, inspection


def same_weld(
    work_order_id: int | None, weld_reference: str | None, inspection_id: int | None
) -> Any:
    """The inspections of one weld: its work order + weld reference; an inspection without a
    reference is a weld of its own (None: no inspection yet)."""
    if weld_reference is None:
        return Inspection.id == inspection_id if inspection_id is not None else None
    same_order = (
        Inspection.work_order_id.is_(None)
        if work_order_id is None
        else Inspection.work_order_id == work_order_id
    )
    return and_(same_order, Inspection.weld_reference == weld_reference)


async def refresh_weld(
    session: AsyncSession,
    work_order_id: int | None,
    weld_reference: str | None,
    inspection_id: int | None,
) -> None:
    """Recompute `first_of_weld` and `weld_repaired` for one weld."""
    keep = {"updated_at": Inspection.updated_at}  # derived fields: not an edit of the rows
    same = same_weld(work_order_id, weld_reference, inspection_id)
    if same is None:
        return
    if weld_reference is None:
        await session.execute(
            update(Inspection)
            .where(same)
            .values(
                first_of_weld=True,
                weld_repaired=Inspection.result != InspectionResult.passed,
                **keep,
            )
            .execution_options(synchronize_session=False)
        )
        return
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


def _weld(inspection: Inspection) -> Weld:
    return inspection.work_order_id, inspection.weld_reference, inspection.id


async def _written(
    session: AsyncSession, inspection: Inspection, before: Weld | None, ledger: totals.Ledger
) -> Inspection:
    """Refresh the welds the inspection left and joined, then the dashboard's day totals."""
    if before is not None and before != _weld(inspection):
        await refresh_weld(session, *before)
    await refresh_weld(session, *_weld(inspection))
    await ledger.close(session, same_weld(*_weld(inspection)))
    return inspection


async def _on_weld(session: AsyncSession, body: InspectionCreate) -> InspectionCreate:
    """An inspection of a registered weld takes its work order and reference from it (422 when
    the body names another work order or reference)."""
    if body.weld_id is None:
        return body
    weld = await session.get(RegisteredWeld, body.weld_id)
    if weld is None:
        raise invalid_fields(
            [field_error("weld_id", f"welds {body.weld_id} does not exist", "reference")]
        )
    for name, value in (("work_order_id", weld.work_order_id), ("weld_reference", weld.reference)):
        given = getattr(body, name)
        if given is not None and given != value:
            raise invalid_fields(
                [
                    field_error(
                        name,
                        f"weld {weld.id} belongs to {name} {value!r}, not {given!r}",
                        "mismatch",
                    )
                ]
            )
    return body.model_copy(
        update={"work_order_id": weld.work_order_id, "weld_reference": weld.reference}
    )


async def create_inspection(session: AsyncSession, body: InspectionCreate) -> Inspection:
    """Create; refresh the weld it joins and the day totals (`_written`)."""
    body = await _on_weld(session, body)
    ledger = await totals.Ledger.open(
        session,
        same_weld(body.work_order_id, body.weld_reference, None),
        work_orders=[body.work_order_id],
    )
    return await _written(session, await crud.create(session, Inspection, body), None, ledger)


async def _replace(session: AsyncSession, inspection: Inspection, new: Any) -> Inspection:
    """Write `new` over the stored inspection; refresh welds and day totals."""
    before = _weld(inspection)
    ledger = await totals.Ledger.open(
        session,
        same_weld(*before),
        same_weld(new.work_order_id, new.weld_reference, inspection.id),
        Inspection.id == inspection.id,
        work_orders=[before[0], new.work_order_id],
    )
    return await _written(session, await crud.update(session, inspection, new), before, ledger)


async def replace_inspection(
    session: AsyncSession, inspection_id: int, body: InspectionCreate, if_match: str | None
) -> Inspection:
    """Replace; refresh the welds it left and joined and the day totals (`_replace`)."""
    inspection = await crud.get_for_write(session, Inspection, inspection_id, if_match)
    return await _replace(session, inspection, await _on_weld(session, body))


async def patch_inspection(
    session: AsyncSession, inspection_id: int, patch: BaseModel, if_match: str | None
) -> Inspection:
    """Patch; refresh the welds it left and joined and the day totals (`_replace`)."""
    inspection = await crud.get_for_write(session, Inspection, inspection_id, if_match)
    merged = crud.merge(InspectionCreate, inspection, patch)
    return await _replace(session, inspection, await _on_weld(session, merged))


async def delete_inspection(
    session: AsyncSession, inspection_id: int, if_match: str | None
) -> None:
    """Delete; refresh the weld it leaves and the day totals."""
    inspection = await crud.get_for_write(session, Inspection, inspection_id, if_match)
    work_order_id, weld_reference, _ = weld = _weld(inspection)
    ledger = await totals.Ledger.open(session, same_weld(*weld), work_orders=[work_order_id])
    await crud.remove(session, inspection)
    await refresh_weld(session, work_order_id, weld_reference, None)
    await ledger.close(session)
