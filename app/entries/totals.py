"""Keeping `entry_day_totals` true (ADR 0019): added to in the transaction that inserts an
import's entries, counted again for the affected days in the transaction that deletes them
(which also takes the import's runs away from `conformance_day_totals`, ADR 0040).

Adding is an upsert that sums counts and totals and keeps the least and greatest value, so
concurrent imports into the same day both count. Recounting deletes the days' totals first (that
waits for an import holding them) and then reads their entries, which under READ COMMITTED (every
database here) sees what committed meanwhile: a concurrent import's entries are either read or it
adds its own totals after this transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.conformance import totals as conformance_totals
from app.core import deletions
from app.core.clock import workshop_day
from app.core.pagination import day_range
from app.core.upsert import upsert_adding
from app.entries.tally import Row, Tally
from app.models import EntryDayTotal, WorkshopEntry

T: Table = EntryDayTotal.__table__  # type: ignore[assignment]
E = WorkshopEntry
ENTRIES: Table = WorkshopEntry.__table__  # type: ignore[assignment]
KEY = ("machine_id", "day", "template_id", "field")
COLUMNS = (*KEY, "count", "total", "low", "high")


def values(template_id: int, machine_id: int, rows: Iterable[Row]) -> list[dict[str, Any]]:
    return [
        {
            "template_id": template_id,
            "machine_id": machine_id,
            "day": date.fromisoformat(day),
            "field": field,
            "count": count,
            "total": total,
            "low": low,
            "high": high,
        }
        for day, field, count, total, low, high in rows
    ]


async def add(
    session: AsyncSession, template_id: int, machine_id: int, rows: Iterable[Row]
) -> None:
    """Add day totals (a Tally's rows) of entries inserted in this transaction."""
    given = values(template_id, machine_id, rows)
    if given:
        dialect = session.get_bind().dialect.name
        stmt = upsert_adding(T, dialect, KEY, ("count", "total"), ("low",), ("high",))
        await session.execute(stmt, given)


async def forget_import(session: AsyncSession, import_id: int) -> None:
    """Delete an import's entries and count the days they fell on again; take its runs away
    from the conformance totals (ADR 0040)."""
    await conformance_totals.forget_import(session, import_id)
    spans = (
        await session.execute(
            select(E.template_id, E.machine_id, func.min(E.recorded_at), func.max(E.recorded_at))
            .where(E.import_id == import_id, E.recorded_at.is_not(None))
            .group_by(E.template_id, E.machine_id)
        )
    ).all()
    await deletions.record_where(session, ENTRIES, E.import_id == import_id)
    await session.execute(delete(E).where(E.import_id == import_id))
    for template_id, machine_id, first, last in spans:
        if first and last:
            await recount(session, template_id, machine_id, workshop_day(first), workshop_day(last))


async def recount(
    session: AsyncSession, template_id: int, machine_id: int, first: date, last: date
) -> None:
    """Count the days first..last of one template and machine again from their entries."""
    await session.execute(
        delete(T).where(
            T.c.template_id == template_id,
            T.c.machine_id == machine_id,
            T.c.day.between(first, last),
        )
    )
    tally = Tally()
    low, high = day_range(first, last)
    entries = await session.stream(
        select(E.recorded_at, E.data)
        .where(
            E.template_id == template_id,
            E.machine_id == machine_id,
            E.recorded_at >= low,
            E.recorded_at < high,
        )
        .execution_options(yield_per=10_000)
    )
    async for recorded_at, data in entries:
        tally.add(workshop_day(recorded_at).isoformat(), data)
    await add(session, template_id, machine_id, tally.rows())


def tally_entries(
    entries: Iterable[tuple[int, int, datetime | None, dict[str, Any]]],
    into: dict[tuple[int, int], Tally] | None = None,
) -> dict[tuple[int, int], Tally]:
    """Day totals of stored entries (template_id, machine_id, recorded_at, data), per template
    and machine, added `into` given tallies: how a database that has entries gets its totals
    (a migration, a benchmark)."""
    tallies: dict[tuple[int, int], Tally] = {} if into is None else into
    for template_id, machine_id, recorded_at, data in entries:
        if recorded_at is not None:
            key = (template_id, machine_id)
            tally = tallies.get(key) or tallies.setdefault(key, Tally())
            tally.add(workshop_day(recorded_at).isoformat(), data)
    return tallies
