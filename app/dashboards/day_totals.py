"""The zone of the day totals (ADR 0036): `entry_day_totals`, `inspection_day_totals`,
`conformance_day_totals` (ADR 0040) and `work_order_day_totals` (ADR 0041) are keyed by the
workshop's days, so a change of WORKSHOP_TIMEZONE counts them again.

The database records the zone its totals were counted in (`app_state`; no row: UTC, as every
total was before the setting). At start the API compares it with WORKSHOP_TIMEZONE: a database
with no totals takes the setting; one whose totals were counted in another zone is refused
until `workshop totals rebuild` has counted them again (one transaction; run it with the API
stopped, as imports and inspections written meanwhile by a process in the old zone would add
totals by the old days).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.conformance import totals as conformance_totals
from app.core import clock
from app.core.db import Database
from app.core.logger import get_logger
from app.entries import totals as entry_totals
from app.entries.tally import Tally
from app.inspections import totals as inspection_totals
from app.models import (
    DAY_TOTALS_ZONE,
    AppState,
    ConformanceDayTotal,
    EntryDayTotal,
    InspectionDayTotal,
    WorkOrderDayTotal,
    WorkshopEntry,
)
from app.work_orders import totals as order_totals

BATCH = 20_000
log = get_logger(__name__)


class ZoneMismatch(RuntimeError):
    """The day totals were counted in another zone than WORKSHOP_TIMEZONE."""


@dataclass(frozen=True, slots=True)
class Rebuilt:
    zone: str
    previous: str
    entry_days: int
    inspection_days: int
    work_order_days: int
    run_days: int


async def stored_zone(session: AsyncSession) -> str:
    value = await session.scalar(select(AppState.value).where(AppState.name == DAY_TOTALS_ZONE))
    return value or "UTC"


async def _record(session: AsyncSession, zone: str) -> None:
    await session.execute(delete(AppState).where(AppState.name == DAY_TOTALS_ZONE))
    session.add(AppState(name=DAY_TOTALS_ZONE, value=zone))
    await session.flush()


async def check_zone(session: AsyncSession) -> str | None:
    """None when the day totals are counted in the workshop's zone (a database without totals
    takes it); else what to do, for the start-up error."""
    stored, zone = await stored_zone(session), clock.name()
    if stored == zone:
        return None
    counted = False
    for table in (EntryDayTotal, InspectionDayTotal, WorkOrderDayTotal, ConformanceDayTotal):
        counted = counted or bool(await session.scalar(select(exists().select_from(table))))
    if not counted:
        await _record(session, zone)
        return None
    return (
        f"WORKSHOP_TIMEZONE is {zone} but the dashboards' day totals were counted by the days "
        f"of {stored}: stop every API process and run `workshop totals rebuild` "
        f"(or set WORKSHOP_TIMEZONE={stored} again)"
    )


async def ensure_zone(db: Database) -> None:
    """At the start of a process that writes day totals (the API, the scheduler, a CLI import
    or seed): raise ZoneMismatch when they were counted in another zone."""
    try:
        problem = await db.run(check_zone)
    except Exception as exc:  # the database may be down at start: checked at the next one
        log.error("day_totals_zone_check_failed", error=str(exc))
        return
    if problem:
        log.error("day_totals_zone_mismatch", problem=problem)
        raise ZoneMismatch(problem)


async def _recount(
    session: AsyncSession,
    table: Any,
    totals: Any,
    *before_sign: Any,
) -> dict[Any, Any]:
    """Empty one day table and count it again from its rows: `totals` is its module
    (`facts`, `count`, `add`); `before_sign`, what its `count` takes between rows and sign."""
    await session.execute(delete(table))
    rows = await session.stream(totals.facts().execution_options(yield_per=BATCH))
    counted: dict[Any, Any] = {}
    async for batch in rows.partitions():
        totals.count(batch, *before_sign, 1, counted)
    await totals.add(session, counted)
    return counted


async def rebuild(session: AsyncSession) -> Rebuilt:
    """Count the day tables again from the entries, inspections, work orders and runs, by the
    workshop's days, and record the zone."""
    previous = await stored_zone(session)
    await session.execute(delete(EntryDayTotal))
    e = WorkshopEntry
    entries = await session.stream(
        select(e.template_id, e.machine_id, e.recorded_at, e.data)
        .where(e.recorded_at.is_not(None))
        .execution_options(yield_per=BATCH)
    )
    tallies: dict[tuple[int, int], Tally] = {}
    async for batch in entries.partitions():
        entry_totals.tally_entries(batch, tallies)
    entry_days = 0
    for (template_id, machine_id), tally in sorted(tallies.items()):
        rows = tally.rows()
        entry_days += len({row[0] for row in rows})
        await entry_totals.add(session, template_id, machine_id, rows)

    dialect = session.get_bind().dialect.name
    counted = await _recount(session, InspectionDayTotal, inspection_totals)
    ordered = await _recount(session, WorkOrderDayTotal, order_totals, dialect)
    judged = await _recount(session, ConformanceDayTotal, conformance_totals)
    await _record(session, clock.name())
    return Rebuilt(
        zone=clock.name(),
        previous=previous,
        entry_days=entry_days,
        inspection_days=len({day for day, _, _ in counted}),
        work_order_days=len({day for _, day, _ in ordered}),
        run_days=len({key[0] for key in judged}),
    )
