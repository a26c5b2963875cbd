"""The periodic facts: found by the scheduler's `webhooks:scan` job every WEBHOOK_SCAN_SECONDS,
with the dashboards' own alert queries (app/dashboards/service.py), and emitted.

Each fact's key names what would make it a new fact, so a scan that finds it again inserts
nothing: a qualification by its expiry date (or its confirmation date, for a lapsed
confirmation), equipment by its calibration due date, a machine by its validation due date, a
work order by its due date; a renewal or a new date is a new event. Stock at or below its reorder
level is told once a day while it stays there. The lists are the dashboards' (at most 100 or
200 per kind, the most urgent first).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.db import Database
from app.core.logger import get_logger
from app.dashboards import service as dashboards
from app.dashboards.schemas import DashboardQuery
from app.webhooks.events import EventType, emit_to, subscribers

log = get_logger(__name__)
PERIODIC = (
    EventType.qualification_lapsing,
    EventType.qualification_lapsed,
    EventType.calibration_due,
    EventType.calibration_overdue,
    EventType.validation_due,
    EventType.validation_overdue,
    EventType.stock_reorder,
    EventType.work_order_overdue,
)


async def scan(db: Database, horizon_days: int, today: date | None = None) -> int:
    """Emit the periodic facts of `today`; returns how many deliveries were new (SQLite and
    PostgreSQL count them; MariaDB reports 0)."""
    return await db.run(lambda s: _scan(s, horizon_days, today or clock.today()))


async def _scan(session: AsyncSession, horizon_days: int, today: date) -> int:
    targets = {event: await subscribers(session, event) for event in PERIODIC}
    if not any(targets.values()):
        return 0
    facts: list[tuple[EventType, str, Any]] = []
    wanted = {event for event, subs in targets.items() if subs}
    if wanted & {EventType.qualification_lapsing, EventType.qualification_lapsed}:
        horizon = today + timedelta(days=horizon_days)
        for q in await dashboards.qualification_alerts(session, today, horizon):
            event = (
                EventType.qualification_lapsing
                if q.reason == "expiring"
                else EventType.qualification_lapsed
            )
            since = q.expires_on if q.reason in ("expired", "expiring") else q.last_confirmed_on
            facts.append((event, f"{q.qualification_id}:{q.reason}:{since}", q))
    kinds = {
        EventType.calibration_due,
        EventType.calibration_overdue,
        EventType.validation_due,
        EventType.validation_overdue,
    }
    if wanted & kinds:
        board = await dashboards.equipment(session, DashboardQuery(days=horizon_days))
        for c in board.calibration_overdue:
            facts.append((EventType.calibration_overdue, f"{c.id}:{c.next_calibration_due}", c))
        for c in board.calibration_due_soon:
            facts.append((EventType.calibration_due, f"{c.id}:{c.next_calibration_due}", c))
        for v in board.validation_overdue:
            key = f"{v.machine_id}:{v.validation_due or 'never'}"
            facts.append((EventType.validation_overdue, key, v))
        for v in board.validation_due_soon:
            facts.append((EventType.validation_due, f"{v.machine_id}:{v.validation_due}", v))
    if EventType.stock_reorder in wanted:
        for item in await dashboards.inventory_alerts(session):
            facts.append((EventType.stock_reorder, f"{item.id}:{today}", item))
    if EventType.work_order_overdue in wanted:
        dialect = session.get_bind().dialect.name
        board_orders = await dashboards.work_orders(session, DashboardQuery(), dialect)
        for order in board_orders.overdue:
            facts.append((EventType.work_order_overdue, f"{order.id}:{order.due_date}", order))
    new = 0
    for event, key, data in facts:
        new += await emit_to(session, targets[event], event, key, data.model_dump(mode="json"))
    if facts:
        log.info("webhook_scan", facts=len(facts), new_deliveries=new)
    return new
