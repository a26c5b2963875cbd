"""Work orders: planning by managers, progress by operators and welders.

Rules:
- operators may change only the progress fields (status, started_at, completed_at, notes);
  managers change anything;
- status moves along `TRANSITIONS` (409 otherwise); entering `in_progress` stamps `started_at`
  and entering `completed` stamps `completed_at`, unless the client sent them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, not_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.auth.principal import Principal
from app.auth.roles import Permission
from app.core import clock, crud
from app.core.errors import Conflict, Forbidden
from app.core.pagination import (
    JSONPage,
    between,
    changed,
    contains_any,
    eq,
    json_page,
    list_order,
    paginate,
    where,
)
from app.inspections import totals as inspection_totals
from app.models import Employee, Inspection, WorkOrder, WorkOrderStatus
from app.work_orders.schemas import WorkOrderCreate, WorkOrderExport, WorkOrderQuery, WorkOrderRead
from app.wps.service import approved_for_work

S = WorkOrderStatus
TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    S.open: frozenset({S.in_progress, S.on_hold, S.completed, S.cancelled}),
    S.in_progress: frozenset({S.on_hold, S.completed, S.cancelled, S.open}),
    S.on_hold: frozenset({S.open, S.in_progress, S.cancelled}),
    S.completed: frozenset({S.in_progress}),  # reopened: a weld failed a later inspection
    S.cancelled: frozenset({S.open}),
}
CLOSED = (S.completed, S.cancelled)
PROGRESS_FIELDS = frozenset({"status", "started_at", "completed_at", "notes"})
_WELDER = selectinload(WorkOrder.assigned_welder)


async def get_work_order(session: AsyncSession, work_order_id: int) -> WorkOrder:
    """With the assigned welder loaded, for `assigned_welder_name`."""
    return await crud.get(session, WorkOrder, work_order_id, _WELDER)


def _filters(query: WorkOrderQuery) -> list[Any]:
    overdue = None
    if query.overdue is not None:
        late = (WorkOrder.due_date < clock.today()) & WorkOrder.status.not_in(CLOSED)
        overdue = late if query.overdue else not_(late) | WorkOrder.due_date.is_(None)
    return where(
        eq(WorkOrder.status, query.status),
        eq(WorkOrder.priority, query.priority),
        contains_any(query.client, WorkOrder.client),
        eq(WorkOrder.assigned_welder_id, query.assigned_welder_id),
        eq(WorkOrder.machine_id, query.machine_id),
        contains_any(query.q, WorkOrder.order_id, WorkOrder.description),
        between(WorkOrder.due_date, query.due_from, query.due_to),
        between(WorkOrder.created_at, query.created_from, query.created_to),
        overdue,
    )


@cache
def _listed() -> Select[Any]:
    """WorkOrderRead's fields in its order, the welder's name joined in: one query, no ORM
    objects, each row the page's item as it is (`json_page`). Built once: the name's
    expression alone cost a list page 3 % of its time."""
    table = WorkOrder.__table__.c
    name = Employee.full_name.label("assigned_welder_name")
    columns = [name if field == name.name else table[field] for field in WorkOrderRead.model_fields]
    return select(*columns).outerjoin(Employee, Employee.id == WorkOrder.assigned_welder_id)


async def list_work_orders(session: AsyncSession, query: WorkOrderQuery) -> JSONPage:
    filters = _filters(query)
    rows, counted = await paginate(
        session,
        _listed().where(*filters),
        query,
        sort=getattr(WorkOrder, query.sort_by),
        tiebreak=WorkOrder.id,
        columns=True,
        counted=select(WorkOrder.id).where(*filters),  # the welder's join: one row or none
    )
    return json_page(list(rows), counted, query)


EXPORT_COLUMNS = (
    "id",
    "order_id",
    "client",
    "description",
    "assigned_welder_id",
    "machine_id",
    "wps_number",
    "quantity",
    "status",
    "priority",
    "due_date",
    "started_at",
    "completed_at",
    "notes",
    "created_at",
    "updated_at",
)


def export_work_orders(query: WorkOrderExport) -> tuple[list[str], Select[Any]]:
    """Header and query of the export: the list's filters and order, the welder's name."""
    welder = Employee.full_name.label("assigned_welder_name")
    columns = [getattr(WorkOrder, c) for c in EXPORT_COLUMNS]
    stmt = (
        select(*columns[:5], welder, *columns[5:])
        .outerjoin(Employee, Employee.id == WorkOrder.assigned_welder_id)
        .where(*_filters(query), *changed(query, WorkOrder.id))
        .order_by(*list_order(query, getattr(WorkOrder, query.sort_by), WorkOrder.id))
        .offset(query.skip)
        .limit(query.limit)
    )
    header = [*EXPORT_COLUMNS[:5], "assigned_welder_name", *EXPORT_COLUMNS[5:]]
    return header, stmt


def _stamp_times(previous: WorkOrderStatus | None, body: WorkOrderCreate) -> WorkOrderCreate:
    if (
        previous is not None
        and body.status != previous
        and body.status not in TRANSITIONS[previous]
    ):
        raise Conflict(
            f"A work order cannot go from {previous.value} to {body.status.value}",
            extra={"allowed": sorted(s.value for s in TRANSITIONS[previous])},
        )
    now = datetime.now(UTC)
    changes: dict[str, datetime] = {}
    if body.status in (S.in_progress, S.completed) and body.started_at is None:
        changes["started_at"] = now
    if body.status == S.completed and body.completed_at is None:
        changes["completed_at"] = now
    return body.model_copy(update=changes) if changes else body


async def _loaded(session: AsyncSession, work_order: WorkOrder) -> WorkOrder:
    await session.refresh(work_order, ["assigned_welder"])
    return work_order


async def _replace(session: AsyncSession, work_order: WorkOrder, body: WorkOrderCreate) -> None:
    """Replace; a new client moves the order's inspections in the quality dashboard's totals."""
    if body.client == work_order.client:
        await crud.update(session, work_order, body)
        return
    ledger = await inspection_totals.Ledger.open(
        session, Inspection.work_order_id == work_order.id, work_orders=[work_order.id]
    )
    await crud.update(session, work_order, body)
    await ledger.close(session)


async def _wps(session: AsyncSession, body: WorkOrderCreate, previous: int | None) -> None:
    """Only an approved WPS goes on new work; one set before stays when a newer is approved."""
    if body.wps_id != previous:
        await approved_for_work(session, body.wps_id)


async def create_work_order(session: AsyncSession, body: WorkOrderCreate) -> WorkOrder:
    """Create with the status's times stamped (`_stamp_times`), under an approved WPS."""
    await _wps(session, body, None)
    work_order = await crud.create(session, WorkOrder, _stamp_times(None, body))
    return await _loaded(session, work_order)


async def replace_work_order(
    session: AsyncSession, work_order_id: int, body: WorkOrderCreate, if_match: str | None
) -> WorkOrder:
    """Replace along `TRANSITIONS`, stamping the status's times (`_stamp_times`)."""
    work_order = await crud.get_for_write(session, WorkOrder, work_order_id, if_match)
    await _wps(session, body, work_order.wps_id)
    await _replace(session, work_order, _stamp_times(work_order.status, body))
    return await _loaded(session, work_order)


async def patch_work_order(
    session: AsyncSession,
    work_order_id: int,
    patch: BaseModel,
    if_match: str | None,
    principal: Principal,
) -> WorkOrder:
    """Change the fields sent. Without `resources:write`, only the progress fields."""
    if not principal.can(Permission.resource_write):
        planning = sorted(patch.model_fields_set - PROGRESS_FIELDS)
        if planning:
            raise Forbidden(
                f"Role '{principal.role}' may change only a work order's progress "
                f"({', '.join(sorted(PROGRESS_FIELDS))}), not {', '.join(planning)}",
                extra={"required_permission": Permission.resource_write.value},
            )
    work_order = await crud.get_for_write(session, WorkOrder, work_order_id, if_match)
    merged = _stamp_times(work_order.status, crud.merge(WorkOrderCreate, work_order, patch))
    await _wps(session, merged, work_order.wps_id)
    await _replace(session, work_order, merged)
    return await _loaded(session, work_order)
