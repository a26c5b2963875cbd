"""Dashboards: every figure aggregated in SQL (GROUP BY, CASE, JSON table functions), a fixed
number of queries per endpoint, never rows counted in Python. Weld quality, production,
conformance and the work-order figures sum the day totals that writes keep (ADR 0019, 0020,
0040, 0041). Definitions:
docs/Dashboard_Metrics.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from app.conformance import totals as conformance_totals
from app.conformance.runs import BITS
from app.core import clock
from app.core.pagination import between, contains_any, day_range, eq, where
from app.dashboards import schemas as s
from app.dashboards.sql import as_date, bucket, day, days_between, ratio, workshop_time
from app.entries.tally import ALL
from app.inspections import totals as inspection_totals
from app.models import (
    ConformanceDayTotal,
    Employee,
    EntryDayTotal,
    Equipment,
    EquipmentStatus,
    Inspection,
    InspectionDayTotal,
    InspectionResult,
    Item,
    Machine,
    MachineStatus,
    Qualification,
    QualificationStandard,
    Weld,
    WorkOrder,
    WorkOrderDayTotal,
    WorkOrderStatus,
    WorkshopEntry,
    Wps,
)
from app.qualifications.engine import CONTINUITY_MONTHS, add_months
from app.work_orders import totals as order_totals

CLOSED = (WorkOrderStatus.completed, WorkOrderStatus.cancelled)
# Counting overdue orders by the statuses still open, `status IN (...)`, lets the (status,
# due_date) index answer one status range at a time; NOT IN would read the table.
OPEN = tuple(s for s in WorkOrderStatus if s not in CLOSED)
ALERT_LIMIT = 100


async def _count_by(session: AsyncSession, key: Any, filters: list[Any]) -> dict[str, int]:
    """Rows per value of `key` (one GROUP BY)."""
    rows = await session.execute(select(key, func.count()).where(*filters).group_by(key))
    return {str(getattr(k, "value", k)): int(n) for k, n in rows}


def _order_filters(q: s.DashboardQuery) -> list[Any]:
    low, high = day_range(q.from_, q.to)
    return where(
        eq(WorkOrder.machine_id, q.machine_id),
        eq(WorkOrder.assigned_welder_id, q.welder_id),
        contains_any(q.client, WorkOrder.client),
        WorkOrder.created_at >= low if low else None,
        WorkOrder.created_at < high if high else None,
    )


def _inspection_filters(q: s.DashboardQuery) -> list[Any]:
    low, high = day_range(q.from_, q.to)
    client = None
    if q.client:
        client = Inspection.work_order_id.in_(
            select(WorkOrder.id).where(*where(contains_any(q.client, WorkOrder.client)))
        )
    return where(
        eq(Inspection.machine_id, q.machine_id),
        eq(Inspection.welder_id, q.welder_id),
        Inspection.inspected_at >= low if low else None,
        Inspection.inspected_at < high if high else None,
        client,
    )


async def stats(session: AsyncSession, q: s.DashboardQuery, dialect: str) -> s.Stats:
    today = clock.today()
    horizon = today + timedelta(days=q.days)
    orders = await order_figures(session, q, dialect, board=False)
    equipment = (
        await session.execute(
            select(
                Equipment.status,
                func.count(),
                func.sum(case((Equipment.next_calibration_due <= horizon, 1), else_=0)),
            )
            .where(*where(eq(Equipment.machine_id, q.machine_id)))
            .group_by(Equipment.status)
        )
    ).all()
    total_inspections, passed = await _inspected(session, q)
    low_stock = await session.scalar(
        select(func.count()).select_from(Item).where(Item.quantity <= Item.reorder_level)
    )
    validations = await session.scalar(
        select(func.count()).select_from(Machine).where(*_validation_due(q, horizon))
    )
    alerts = await qualification_alerts(session, today, horizon)
    overrides = await override_alerts(session)
    return s.Stats(
        work_orders=s.WorkOrderSummary(
            total=sum(orders.by_status.values()),
            by_status=orders.by_status,
            overdue=orders.overdue,
        ),
        equipment=s.EquipmentSummary(
            total=sum(int(n) for _, n, _ in equipment),
            by_status={str(k.value): int(n) for k, n, _ in equipment},
            calibration_due=sum(
                int(d or 0) for k, _, d in equipment if k != EquipmentStatus.retired
            ),
            validation_due=int(validations or 0),
        ),
        inspections=s.InspectionSummary(
            total=total_inspections, passed=passed, pass_rate=ratio(passed, total_inspections)
        ),
        inventory_alerts=int(low_stock or 0),
        qualifications_expiring=sum(a.reason in ("expired", "expiring") for a in alerts),
        qualification_alerts=alerts,
        assignment_overrides=overrides,
    )


def _narrowed(q: s.DashboardQuery) -> bool:
    """Narrowed to a machine, welder or client: no day totals are kept per those."""
    return q.machine_id is not None or q.welder_id is not None or bool(q.client)


async def _inspected(session: AsyncSession, q: s.DashboardQuery) -> tuple[int, int]:
    """Inspections and passes: from the day totals (ADR 0020) when only days bound them."""
    if not _narrowed(q):
        t = InspectionDayTotal
        total, passed = (
            await session.execute(
                select(func.sum(t.inspections), func.sum(t.passed)).where(
                    *between(t.day, q.from_, q.to), t.dimension == "all"
                )
            )
        ).one()
        return int(total or 0), int(passed or 0)
    # Per result: the result index answers it without reading the rows.
    by_result = (
        await session.execute(
            select(Inspection.result, func.count())
            .where(*_inspection_filters(q))
            .group_by(Inspection.result)
        )
    ).all()
    return (
        sum(int(n) for _, n in by_result),
        sum(int(n) for result, n in by_result if result == InspectionResult.passed),
    )


@dataclass(slots=True)
class OrderFigures:
    """The work-order figures, the same whichever way they are read (`order_figures`)."""

    by_status: dict[str, int]
    overdue: int = 0  # open orders due before today
    by_priority: dict[str, int] = field(default_factory=dict)
    weekly: list[tuple[date, int]] = field(default_factory=list)  # completed per week
    with_due: int = 0  # completed orders with a due date
    on_time: int = 0  # ... completed on or before it
    lead_time_days: float | None = None


async def order_figures(
    session: AsyncSession, q: s.DashboardQuery, dialect: str, *, board: bool = True
) -> OrderFigures:
    """From the work-order day totals kept on write (ADR 0041) when only days bound the
    orders; from the orders themselves when narrowed to a machine, welder or client (indexed
    subsets). Without `board`, only what /dashboard/stats shows (per status, overdue)."""
    if _narrowed(q):
        return await figures_from_orders(session, q, dialect, board=board)
    return await figures_from_totals(session, q, dialect, board=board)


async def figures_from_totals(
    session: AsyncSession, q: s.DashboardQuery, dialect: str, *, board: bool = True
) -> OrderFigures:
    """At most three small GROUP BYs over the rows of the days the orders were created on."""
    t = WorkOrderDayTotal
    days = between(t.day, q.from_, q.to)
    dimensions = ["status", "priority"] if board else ["status"]
    counted = await session.execute(
        select(t.dimension, t.key, func.sum(t.orders))
        .where(*days, t.dimension.in_(dimensions))
        .group_by(t.dimension, t.key)
        .order_by(t.dimension, t.key)
    )
    per: dict[str, dict[str, int]] = {d: {} for d in dimensions}
    for dimension, key, n in counted:
        if n:
            per[dimension][key] = int(n)
    overdue = await session.scalar(
        select(func.sum(t.orders)).where(
            *days, t.dimension == "open_due", t.key < clock.today().isoformat()
        )
    )
    figures = OrderFigures(by_status=per["status"], overdue=int(overdue or 0))
    if not board:
        return figures
    figures.by_priority = per["priority"]
    weeks = (
        await session.execute(
            select(
                t.key,
                func.sum(t.orders),
                func.sum(t.with_due),
                func.sum(t.on_time),
                func.sum(t.lead_time),
            )
            .where(*days, t.dimension == "completed")
            .group_by(t.key)
            .order_by(t.key)
        )
    ).all()
    done = lead = 0
    for week, n, with_due, on_time, lead_time in weeks:
        if n:
            figures.weekly.append((date.fromisoformat(week), int(n)))
        done += int(n or 0)
        figures.with_due += int(with_due or 0)
        figures.on_time += int(on_time or 0)
        lead += int(lead_time or 0)
    if done:
        figures.lead_time_days = round(lead / (done * order_totals.PER_DAY[dialect]), 2)
    return figures


async def figures_from_orders(
    session: AsyncSession, q: s.DashboardQuery, dialect: str, *, board: bool = True
) -> OrderFigures:
    filters = _order_filters(q)
    figures = OrderFigures(by_status=await _count_by(session, WorkOrder.status, filters))
    overdue = await session.scalar(
        select(func.count())
        .select_from(WorkOrder)
        .where(*filters, WorkOrder.due_date < clock.today(), WorkOrder.status.in_(OPEN))
    )
    figures.overdue = int(overdue or 0)
    if not board:
        return figures
    figures.by_priority = await _count_by(session, WorkOrder.priority, filters)
    completed = [
        *filters,
        WorkOrder.status == WorkOrderStatus.completed,
        WorkOrder.completed_at.is_not(None),
    ]
    done_at = workshop_time(WorkOrder.completed_at, dialect)
    week = bucket(done_at, "week", dialect)
    weekly = (
        await session.execute(
            select(week, func.count()).where(*completed).group_by(week).order_by(week)
        )
    ).all()
    figures.weekly = [(as_date(w), int(n)) for w, n in weekly]
    done_day = bucket(done_at, "day", dialect)
    timing = (
        await session.execute(
            select(
                func.sum(case((WorkOrder.due_date.is_not(None), 1), else_=0)),
                func.sum(
                    case(
                        (and_(WorkOrder.due_date.is_not(None), done_day <= WorkOrder.due_date), 1),
                        else_=0,
                    )
                ),
                func.avg(days_between(WorkOrder.created_at, WorkOrder.completed_at, dialect)),
            ).where(*completed)
        )
    ).one()
    figures.with_due, figures.on_time = int(timing[0] or 0), int(timing[1] or 0)
    if timing[2] is not None:
        figures.lead_time_days = round(float(timing[2]), 2)
    return figures


async def override_alerts(session: AsyncSession) -> list[s.OverrideAlert]:
    """Welds of open work whose welder was assigned by a manager's override, newest first."""
    rows = await session.execute(
        select(
            Weld.id,
            Weld.reference,
            Weld.work_order_id,
            WorkOrder.order_id,
            Weld.welder_id,
            Weld.override_by,
            Weld.override_at,
            Weld.override_reason,
        )
        .join(WorkOrder, WorkOrder.id == Weld.work_order_id)
        .where(
            Weld.override_at.is_not(None),
            WorkOrder.status.not_in((WorkOrderStatus.completed, WorkOrderStatus.cancelled)),
        )
        .order_by(Weld.override_at.desc(), Weld.id)
        .limit(ALERT_LIMIT)
    )
    return [s.OverrideAlert.model_validate(dict(r._mapping)) for r in rows]


async def qualification_alerts(
    session: AsyncSession, today: date, horizon: date
) -> list[s.QualificationAlert]:
    """Expired, expiring before `horizon`, six-month confirmation overdue (ISO 9606-1), or
    six months without welding with the process (ASME IX's process clock: the last
    confirmation, or an imported run of the welder with the process); active people."""
    asme = Qualification.standard == QualificationStandard.asme_ix
    cutoff = add_months(today, -CONTINUITY_MONTHS)
    run = WorkshopEntry
    welded_since = (
        select(run.id)
        .where(
            run.welder_id == Qualification.employee_id,
            run.process == Qualification.process,
            run.verdict.is_not(None),
            run.recorded_at >= day_range(cutoff, None)[0],
        )
        .exists()
    )
    confirmed = case(
        (asme, func.coalesce(Qualification.last_welded_on, Qualification.issued_on)),
        else_=func.coalesce(Qualification.last_confirmed_on, Qualification.issued_on),
    )
    reason = case(
        (Qualification.expires_on < today, "expired"),
        (Qualification.expires_on <= horizon, "expiring"),
        (asme, "process_clock"),
        else_="continuity_overdue",
    )
    rows = (
        await session.execute(
            select(
                Qualification.id,
                Qualification.employee_id,
                Employee.first_name,
                Employee.last_name,
                Qualification.certificate_number,
                Qualification.process,
                Qualification.expires_on,
                Qualification.last_confirmed_on,
                reason,
            )
            .join(Employee, Employee.id == Qualification.employee_id)
            .where(
                Employee.active.is_(True),
                # Six calendar months, as the engine counts them (the day it ends is valid).
                or_(
                    Qualification.expires_on <= horizon,
                    and_(confirmed < cutoff, or_(~asme, ~welded_since)),
                ),
            )
            .order_by(func.coalesce(Qualification.expires_on, confirmed), Qualification.id)
            .limit(ALERT_LIMIT)
        )
    ).all()
    return [
        s.QualificationAlert(
            qualification_id=r[0],
            employee_id=r[1],
            employee_name=f"{r[2]} {r[3]}",
            certificate_number=r[4],
            process=r[5],
            expires_on=r[6],
            last_confirmed_on=r[7],
            reason=r[8],
        )
        for r in rows
    ]


async def work_orders(
    session: AsyncSession, q: s.DashboardQuery, dialect: str
) -> s.WorkOrderDashboard:
    today = clock.today()
    figures = await order_figures(session, q, dialect)
    overdue = (
        await session.execute(
            select(
                WorkOrder.id,
                WorkOrder.order_id,
                WorkOrder.client,
                WorkOrder.due_date,
                WorkOrder.status,
                WorkOrder.priority,
                Employee.first_name,
                Employee.last_name,
            )
            .outerjoin(Employee, Employee.id == WorkOrder.assigned_welder_id)
            # NOT IN here: the due_date index is read in order and the scan stops at the limit
            .where(*_order_filters(q), WorkOrder.due_date < today, WorkOrder.status.not_in(CLOSED))
            .order_by(WorkOrder.due_date, WorkOrder.id)
            .limit(ALERT_LIMIT)
        )
    ).all()
    return s.WorkOrderDashboard(
        by_status=figures.by_status,
        by_priority=figures.by_priority,
        overdue=[
            s.OverdueOrder(
                id=r[0],
                order_id=r[1],
                client=r[2],
                due_date=r[3],
                days_overdue=(today - as_date(r[3])).days,
                status=r[4].value,
                priority=r[5].value,
                assigned_welder_name=f"{r[6]} {r[7]}" if r[6] else None,
            )
            for r in overdue
        ],
        completed_per_week=[s.WeekCount(week=w, count=n) for w, n in figures.weekly],
        on_time_rate=ratio(figures.on_time, figures.with_due),
        lead_time_days=figures.lead_time_days,
    )


async def equipment(session: AsyncSession, q: s.DashboardQuery) -> s.EquipmentDashboard:
    today = clock.today()
    scope = where(eq(Equipment.machine_id, q.machine_id))
    by_status = await _count_by(session, Equipment.status, scope)
    by_type = await _count_by(session, Equipment.type, scope)
    due = (
        await session.execute(
            select(
                Equipment.id,
                Equipment.code,
                Equipment.name,
                Equipment.type,
                Equipment.next_calibration_due,
            )
            .where(
                *scope,
                Equipment.status != EquipmentStatus.retired,
                Equipment.next_calibration_due <= today + timedelta(days=q.days),
            )
            .order_by(Equipment.next_calibration_due, Equipment.id)
            .limit(2 * ALERT_LIMIT)
        )
    ).all()
    items = [
        s.CalibrationItem(
            id=r[0],
            code=r[1],
            name=r[2],
            type=r[3],
            next_calibration_due=r[4],
            days_left=(as_date(r[4]) - today).days,
        )
        for r in due
    ]
    validations = await validation_alerts(session, q, today)
    return s.EquipmentDashboard(
        by_status=by_status,
        by_type=by_type,
        calibration_overdue=[i for i in items if i.days_left < 0],
        calibration_due_soon=[i for i in items if i.days_left >= 0],
        validation_overdue=[v for v in validations if v.days_left is None or v.days_left < 0],
        validation_due_soon=[
            v for v in validations if v.days_left is not None and v.days_left >= 0
        ],
    )


def _validation_due(q: s.DashboardQuery, horizon: date) -> list[Any]:
    """Machines in use that require validation (IEC 60974-14) and have none in force until
    `horizon`: never validated, or `validation_due` (kept from the history) on or before it."""
    return where(
        eq(Machine.id, q.machine_id),
        Machine.validation_interval_days.is_not(None),
        Machine.status != MachineStatus.retired,
        or_(Machine.validation_due.is_(None), Machine.validation_due <= horizon),
    )


async def validation_alerts(
    session: AsyncSession, q: s.DashboardQuery, today: date
) -> list[s.ValidationItem]:
    """Never validated first, then by due date."""
    rows = (
        await session.execute(
            select(
                Machine.id,
                Machine.code,
                Machine.name,
                Machine.type,
                Machine.last_validated_on,
                Machine.validation_due,
            )
            .where(*_validation_due(q, today + timedelta(days=q.days)))
            .order_by(Machine.validation_due.is_not(None), Machine.validation_due, Machine.id)
            .limit(2 * ALERT_LIMIT)
        )
    ).all()
    return [
        s.ValidationItem(
            machine_id=r[0],
            code=r[1],
            name=r[2],
            type=str(r[3].value),
            last_validated_on=r[4],
            validation_due=r[5],
            days_left=(as_date(r[5]) - today).days if r[5] is not None else None,
        )
        for r in rows
    ]


# key, inspections, passed, welds, first pass, repaired: one row of quality figures
Figures = tuple[Any, int, int, int, int, int]


async def inspections(
    session: AsyncSession, q: s.DashboardQuery, dialect: str
) -> s.InspectionDashboard:
    """From the day totals kept on write (ADR 0020) when only days bound it; from the
    inspections themselves when it is narrowed to a machine, welder or client."""
    if q.machine_id is None and q.welder_id is None and not q.client:
        figures, defects, weekly = await from_day_totals(session, q, dialect)
    else:
        figures, defects, weekly = await from_inspections(session, q, dialect)
    return board(figures, defects, weekly)


def board(
    figures: dict[str, list[Figures]],
    defects: list[tuple[int, int]],
    weekly: list[tuple[Any, int, int]],
) -> s.InspectionDashboard:
    overall = _qualities(figures["all"])
    return s.InspectionDashboard(
        overall=overall[0] if overall else _quality(("all", 0, 0, 0, 0, 0)),
        by_welder=_qualities(figures["welder"]),
        by_machine=_qualities(figures["machine"]),
        by_method=_qualities(figures["method"]),
        by_client=_qualities(figures["client"]),
        defects=_pareto(defects),
        weekly=[
            s.WeekQuality(week=as_date(w), inspections=n, passed=p, pass_rate=ratio(p, n))
            for w, n, p in weekly
            if n
        ],
    )


def _quality(row: Figures) -> s.Quality:
    key, n, ok, w, fp, rp = row
    return s.Quality(
        key="" if key is None else str(getattr(key, "value", key)),  # "": no welder, client...
        inspections=n,
        passed=ok,
        pass_rate=ratio(ok, n),
        welds=w,
        first_pass=fp,
        first_pass_yield=ratio(fp, w),
        repaired=rp,
        repair_rate=ratio(rp, w),
    )


def _qualities(rows: list[Figures]) -> list[s.Quality]:
    out = [_quality(row) for row in rows if row[1]]
    return sorted(out, key=lambda x: (-x.inspections, x.key))


def _pareto(rows: list[tuple[int, int]]) -> list[s.DefectCount]:
    """ISO 6520-1 codes by number of imperfections, most frequent first (a Pareto)."""
    rows = sorted(((code, n) for code, n in rows if n), key=lambda r: (-r[1], r[0]))
    grand = sum(n for _, n in rows)
    out, running = [], 0
    for code, n in rows:
        running += n
        out.append(
            s.DefectCount(
                code=code, count=n, share=ratio(n, grand), cumulative_share=ratio(running, grand)
            )
        )
    return out


def _ints(*values: Any) -> list[int]:
    return [int(v or 0) for v in values]


async def from_day_totals(
    session: AsyncSession, q: s.DashboardQuery, dialect: str
) -> tuple[dict[str, list[Figures]], list[tuple[int, int]], list[tuple[Any, int, int]]]:
    """Two GROUP BYs over a few hundred rows a day: every key's figures, then the weeks."""
    t = InspectionDayTotal
    days = between(t.day, q.from_, q.to)
    sums = [func.sum(getattr(t, name)) for name in inspection_totals.FIGURES]
    rows = await session.execute(
        select(t.dimension, t.key, *sums).where(*days).group_by(t.dimension, t.key)
    )
    figures: dict[str, list[Figures]] = {d: [] for d in inspection_totals.DIMENSIONS}
    defects = []
    for dimension, key, *numbers in rows:
        n, ok, w, fp, rp = _ints(*numbers)
        if dimension == "defect":
            defects.append((int(key), n))
        else:
            figures[dimension].append(("all" if dimension == "all" else key, n, ok, w, fp, rp))
    week = bucket(t.day, "week", dialect)
    weekly = await session.execute(
        select(week, func.sum(t.inspections), func.sum(t.passed))
        .where(*days, t.dimension == "all")
        .group_by(week)
        .order_by(week)
    )
    return figures, defects, [(w, *_ints(n, p)) for w, n, p in weekly]


async def from_inspections(
    session: AsyncSession, q: s.DashboardQuery, dialect: str
) -> tuple[dict[str, list[Figures]], list[tuple[int, int]], list[tuple[Any, int, int]]]:
    filters = _inspection_filters(q)
    passed = case((Inspection.result == InspectionResult.passed, 1), else_=0)

    # A weld is its work order + weld reference (an inspection without one is its own weld);
    # its first inspection and whether it was ever repaired are kept on the rows on write, so
    # weld figures are sums over the same rows: one GROUP BY per key, which the key's covering
    # index answers alone (ADR 0018).
    first = Inspection.first_of_weld.is_(True)

    def where_first(*conditions: Any) -> Any:
        return func.sum(case((and_(first, *conditions), 1), else_=0))

    async def quality(key: Any, join_client: bool = False) -> list[Figures]:
        """Per value of the key (None: the whole set): inspection and weld figures."""
        label = key if key is not None else literal_column("'all'")
        stmt = select(
            label,
            func.count(),
            func.sum(passed),
            where_first(),
            where_first(Inspection.result == InspectionResult.passed),
            where_first(Inspection.weld_repaired.is_(True)),
        ).where(*filters)
        if join_client:
            stmt = stmt.outerjoin(WorkOrder, WorkOrder.id == Inspection.work_order_id)
        if key is not None:
            stmt = stmt.group_by(key)
        return [(value, *_ints(*numbers)) for value, *numbers in await session.execute(stmt)]

    figures = {
        "all": await quality(None),
        "welder": await quality(Inspection.welder_id),
        "machine": await quality(Inspection.machine_id),
        "method": await quality(Inspection.method),
        "client": await quality(WorkOrder.client, join_client=True),
    }
    return (
        figures,
        await _defects(session, filters, dialect),
        await _weekly(session, filters, dialect),
    )


async def _defects(
    session: AsyncSession, filters: list[Any], dialect: str
) -> list[tuple[int, int]]:
    """Imperfections per ISO 6520-1 code, from each inspection's JSON list."""
    if dialect == "postgresql":
        element = (
            func.jsonb_array_elements(Inspection.defects)
            .table_valued(column("value", JSONB))
            .alias("d")
        )
        code = cast(element.c.value["code"].astext, Integer)
        amount = func.coalesce(cast(element.c.value["count"].astext, Integer), 1)
    elif dialect == "mysql":
        element = (
            func.json_table(
                Inspection.defects,
                literal_column("'$[*]' COLUMNS (code INT PATH '$.code', cnt INT PATH '$.count')"),
            )
            .table_valued("code", "cnt")
            .alias("d")
        )
        code, amount = element.c.code, func.coalesce(element.c.cnt, 1)  # type: ignore[assignment]
    else:
        element = func.json_each(Inspection.defects).table_valued("value").alias("d")
        code = cast(func.json_extract(element.c.value, "$.code"), Integer)
        amount = func.coalesce(func.json_extract(element.c.value, "$.count"), 1)
    rows = await session.execute(
        select(code, func.sum(amount))
        .select_from(Inspection)
        .join(element, true())
        .where(*filters)
        .group_by(code)
    )
    return [(int(c), int(n)) for c, n in rows]


async def _weekly(
    session: AsyncSession, filters: list[Any], dialect: str
) -> list[tuple[Any, int, int]]:
    # Per day first (a cheap expression the (inspected_at, result) index answers in order),
    # then the few hundred days into weeks.
    passed = case((Inspection.result == InspectionResult.passed, 1), else_=0)
    day_of = day(workshop_time(Inspection.inspected_at, dialect), dialect).label("day")
    days = (
        select(day_of, func.count().label("n"), func.sum(passed).label("p"))
        .where(*filters)
        .group_by(day_of)
        .subquery()
    )
    week = bucket(days.c.day, "week", dialect)
    rows = await session.execute(
        select(week, func.sum(days.c.n), func.sum(days.c.p)).group_by(week).order_by(week)
    )
    return [(w, *_ints(n, p)) for w, n, p in rows]


async def inventory_alerts(session: AsyncSession) -> list[s.InventoryAlert]:
    """Items at or below their reorder level, the emptiest (relative to its level) first."""
    cover = Item.quantity / func.nullif(Item.reorder_level, 0)
    suggested = case(
        (Item.reorder_quantity.is_not(None), Item.reorder_quantity),
        else_=2 * Item.reorder_level - Item.quantity,
    )
    rows = (
        await session.execute(
            select(
                Item.id,
                Item.item_id,
                Item.item_name,
                Item.category,
                Item.unit,
                Item.quantity,
                Item.reorder_level,
                suggested,
            )
            .where(Item.quantity <= Item.reorder_level)
            .order_by(func.coalesce(cover, 0), Item.quantity, Item.id)
            .limit(2 * ALERT_LIMIT)
        )
    ).all()
    return [
        s.InventoryAlert(
            id=r[0],
            item_id=r[1],
            item_name=r[2],
            category=r[3].value,
            unit=r[4],
            quantity=float(r[5]),
            reorder_level=float(r[6]),
            suggested_order=float(max(r[7], 0)),
        )
        for r in rows
    ]


async def production(session: AsyncSession, q: s.ProductionQuery, dialect: str) -> s.Production:
    """From the day totals kept on write (ADR 0019): a few rows per machine and day, never the
    entries' JSON."""
    t = EntryDayTotal
    period = bucket(t.day, q.bucket, dialect)
    entries = func.sum(case((t.field == ALL, t.count)))
    if q.field:
        mine = t.field == q.field
        aggregate = {
            "sum": func.sum(case((mine, t.total))),
            "avg": func.sum(case((mine, t.total))) / func.sum(case((mine, t.count))),
            "min": func.min(case((mine, t.low))),
            "max": func.max(case((mine, t.high))),
        }[q.agg]
    else:
        aggregate = literal_column("NULL")
    rows = (
        await session.execute(
            select(t.machine_id, period, entries, aggregate)
            .where(
                *where(
                    eq(t.machine_id, q.machine_id),
                    eq(t.template_id, q.template_id),
                    between(t.day, q.from_, q.to),
                ),
                t.field.in_([ALL, q.field] if q.field else [ALL]),
            )
            .group_by(t.machine_id, period)
            .order_by(period, t.machine_id)
        )
    ).all()
    return s.Production(
        bucket=q.bucket,
        field=q.field,
        agg=q.agg,
        points=[
            s.ProductionPoint(
                machine_id=m,
                bucket=as_date(b),
                entries=int(n),
                value=round(float(v), 6) if v is not None else None,
            )
            for m, b, n, v in rows
        ],
    )


async def conformance(session: AsyncSession, q: s.ConformanceQuery) -> s.ConformanceDashboard:
    """Runs judged in the period, grouped: in range, not checkable, failed per parameter.
    From the day totals kept on write (ADR 0040), which answer every query: `from`/`to` are
    whole workshop days and the machine, welder, WPS and work order are their keys. A run
    without the grouping's key (no WPS, welder or weld resolved: key 0) counts in the total
    only."""
    t = ConformanceDayTotal
    key: Any = {
        "wps": t.wps_id,
        "welder": t.welder_id,
        "machine": t.machine_id,
        "work_order": t.work_order_id,
    }[q.group_by]
    days = between(t.day, q.from_, q.to)
    if days:  # runs without `recorded_at` fall in no range
        days.append(t.day != conformance_totals.UNDATED)
    figures = [func.sum(getattr(t, name)) for name in conformance_totals.FIGURES]
    # welder_id=0 names no welder, as on the runs: 0 is the totals' key of runs without one
    welder = None if q.welder_id is None else [t.welder_id == q.welder_id, t.welder_id != 0]
    stmt = select(key, *figures).where(*where(eq(t.machine_id, q.machine_id), welder, days))
    rows = [
        (None if r[0] == conformance_totals.NONE else r[0], *r[1:])
        for r in (await session.execute(stmt.group_by(key))).all()
        if r[1]  # a key whose runs were all taken away again (an undo, a re-check)
    ]
    return await _conformance(session, q, rows)


async def conformance_from_entries(
    session: AsyncSession, q: s.ConformanceQuery
) -> s.ConformanceDashboard:
    """The same, from the runs themselves (the `failures` bits summed in SQL: no JSON is
    read): the definition the day totals are tested against."""
    e = WorkshopEntry
    key: Any = {
        "wps": e.wps_id,
        "welder": e.welder_id,
        "machine": e.machine_id,
        "work_order": Weld.work_order_id,
    }[q.group_by]
    low, high = day_range(q.from_, q.to)
    conditions = where(
        eq(e.machine_id, q.machine_id),
        eq(e.welder_id, q.welder_id),
        [e.recorded_at >= low] if low else None,
        [e.recorded_at < high] if high else None,
    )
    figures = [
        func.count(),
        func.sum(case((e.verdict == "pass", 1), else_=0)),
        func.sum(case((e.verdict == "fail", 1), else_=0)),
        func.sum(case((e.verdict == "not_checkable", 1), else_=0)),
        *(func.sum(case((e.failures.op("&")(bit) != 0, 1), else_=0)) for bit in BITS.values()),
    ]
    stmt = select(key, *figures).where(e.verdict.is_not(None), *conditions)
    if q.group_by == "work_order":
        stmt = stmt.join(Weld, Weld.id == e.weld_id, isouter=True)
    rows = (await session.execute(stmt.group_by(key))).all()
    return await _conformance(session, q, [tuple(r) for r in rows])


async def _conformance(
    session: AsyncSession, q: s.ConformanceQuery, rows: list[tuple[Any, ...]]
) -> s.ConformanceDashboard:
    labels = await _labels(session, q.group_by, [r[0] for r in rows if r[0] is not None])
    groups = [_group(r[0], labels.get(r[0], str(r[0])), r[1:]) for r in rows if r[0] is not None]
    groups.sort(key=lambda g: (-g.runs, g.label))
    sums = [
        sum(int(r[i] or 0) for r in rows) for i in range(1, len(conformance_totals.FIGURES) + 1)
    ]
    return s.ConformanceDashboard(
        group_by=q.group_by, total=_group(0, "all runs", sums), groups=groups
    )


def _group(key: int, label: str, figures: Any) -> s.ConformanceGroup:
    runs, passed, failed, unchecked, *by_bit = (int(v or 0) for v in figures)
    failing = {name: n for name, n in zip(BITS, by_bit, strict=True) if n}
    top = max(failing, key=lambda name: (failing[name], -BITS[name])) if failing else None
    return s.ConformanceGroup(
        key=key,
        label=label,
        runs=runs,
        in_range=passed,
        share_in_range=ratio(passed, runs),
        failed=failed,
        not_checkable=unchecked,
        top_failing_parameter=top,
        failing_parameters=failing,
    )


async def _labels(session: AsyncSession, group_by: str, keys: list[int]) -> dict[int, str]:
    if not keys:
        return {}
    stmt: Any = {
        "wps": select(Wps.id, Wps.number + " rev " + cast(Wps.revision, String)),
        "welder": select(Employee.id, Employee.full_name),
        "machine": select(Machine.id, Machine.name),
        "work_order": select(WorkOrder.id, WorkOrder.order_id),
    }[group_by]
    model = stmt.selected_columns[0].table
    rows = await session.execute(stmt.where(model.c.id.in_(keys)))
    return {k: str(label) for k, label in rows.all()}
