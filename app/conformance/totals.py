"""Keeping `conformance_day_totals` true (ADR 0040): the conformance dashboard's counts per
workshop day, machine, welder, WPS and work order, changed in the transaction that changes the
runs they count.

- An import counts the runs it inserts, as it inserts them: the parser's counts of each
  chunk's runs, or, when the API changed verdicts (the welder's qualification, the machine's
  validation), the rows it changed counted again, so what is counted is what is stored
  (`tally`, then `fold` and `add` before the import commits; ADR 0044).
- Undoing an import takes its runs away (`forget_import`), read before they are deleted; a
  re-check takes each run's old figures away and adds its new ones (`changed`).
- Every figure is a count and `add` is the adding upsert of ADR 0019 (`app.core.upsert`), so
  concurrent imports into one day both count and differences add up in any order. Undo and
  re-check first lock the import's record (`lock_import`): two re-checks of one import, or a
  re-check and an undo, take turns, so each reads the runs the one before it committed.
- The work order is the weld's, looked up when the runs are counted: a weld never moves to
  another work order (its work order is not a field of WeldCreate) and cannot be deleted while
  runs name it (the entries' foreign key), so the key stays true. A change that moved welds
  would have to move their runs' totals.
- Keys are 0 for no welder, WPS or work order, and a run without `recorded_at` is kept on
  `UNDATED`: a unique key holding NULL never meets itself, so its adds would not add up.
- Rows whose counts fall to zero are left (the dashboard skips them); `workshop totals rebuild`
  counts everything again without them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.conformance.runs import BITS
from app.core.clock import workshop_day
from app.core.upsert import add_rows
from app.models import ConformanceDayTotal, ImportRecord, Weld, WorkshopEntry

T: Table = ConformanceDayTotal.__table__  # type: ignore[assignment]
E = WorkshopEntry
KEY = ("day", "machine_id", "welder_id", "wps_id", "work_order_id")
FIGURES = ("runs", "passed", "failed", "not_checkable", *(f"failed_{name}" for name in BITS))
OUTCOMES = dict(zip(("pass", "fail", "not_checkable"), (1, 2, 3), strict=True))  # FIGURES index
NONE = 0  # the key of no welder, WPS or work order
UNDATED = date(1, 1, 1)  # the day of runs without `recorded_at`
LOOKUP_BATCH = 1000

Key = tuple[date, int, int, int, int]
Totals = dict[Key, list[int]]
# A judged run as an import holds it: (day or None, machine, welder, WPS, weld, verdict,
# failures); an import's runs come down to a few distinct ones, each with its number.
Run = tuple[date | None, int, int | None, int | None, int | None, str | None, int | None]
Runs = Counter[Run]


def facts(*where: Any) -> Select[*tuple[Any, ...]]:
    """What the totals of stored runs depend on, the weld's work order included."""
    return (
        select(
            E.recorded_at,
            E.machine_id,
            E.welder_id,
            E.wps_id,
            Weld.work_order_id,
            E.verdict,
            E.failures,
        )
        .outerjoin(Weld, Weld.id == E.weld_id)
        .where(E.verdict.is_not(None), *where)
    )


def _fold(
    totals: Totals,
    day: date | None,
    machine: int,
    welder: int | None,
    wps: int | None,
    order: int | None,
    verdict: str | None,
    failures: int | None,
    n: int,
) -> None:
    if verdict is None:  # a tack, or a row that is not a run: not counted
        return
    key = (UNDATED if day is None else day, machine, welder or NONE, wps or NONE, order or NONE)
    seen = totals.get(key)
    if seen is None:
        seen = totals[key] = [0] * len(FIGURES)
    seen[0] += n
    outcome = OUTCOMES.get(verdict)
    if outcome is not None:
        seen[outcome] += n
    if failures:
        for i, bit in enumerate(BITS.values(), 4):
            if failures & bit:
                seen[i] += n


def count(rows: Iterable[Sequence[Any]], sign: int = 1, into: Totals | None = None) -> Totals:
    """Add (sign 1) or take away (-1) the figures of stored runs given as `facts` rows:
    how a database that has runs gets its totals (the migration, a rebuild, a benchmark)."""
    totals: Totals = {} if into is None else into
    for at, machine, welder, wps, order, verdict, failures in rows:
        day = None if at is None else workshop_day(at)
        _fold(totals, day, machine, welder, wps, order, verdict, failures, sign)
    return totals


def tally(runs: Iterable[Run] | Mapping[Run, int], into: Runs | None = None) -> Runs:
    """Count runs by what their totals depend on (a C loop: a fraction of a microsecond a
    run), one by one or already counted (run -> runs); tacks included, `fold` leaves them
    out."""
    counted: Runs = Counter() if into is None else into
    counted.update(runs)
    return counted


async def fold(
    session: AsyncSession, runs: Runs, sign: int = 1, into: Totals | None = None
) -> Totals:
    """The totals of tallied runs, their welds' work orders looked up."""
    totals: Totals = {} if into is None else into
    welds = sorted({run[4] for run in runs if run[4] is not None})
    orders: dict[int, int] = {}
    for start in range(0, len(welds), LOOKUP_BATCH):
        part = welds[start : start + LOOKUP_BATCH]
        rows = await session.execute(select(Weld.id, Weld.work_order_id).where(Weld.id.in_(part)))
        orders.update(dict(rows.all()))
    for (day, machine, welder, wps, weld, verdict, failures), n in runs.items():
        order = None if weld is None else orders.get(weld)
        _fold(totals, day, machine, welder, wps, order, verdict, failures, sign * n)
    return totals


def values(totals: Totals) -> list[dict[str, Any]]:
    """Rows to add, in key order (concurrent writers lock rows in the same order)."""
    return [
        {**dict(zip(KEY, key, strict=True)), **dict(zip(FIGURES, figures, strict=True))}
        for key, figures in sorted(totals.items())
        if any(figures)
    ]


async def add(session: AsyncSession, totals: Totals) -> None:
    given = values(totals)
    if given:  # MariaDB: updates, then the upsert for new keys (app.core.upsert.add_rows)
        await session.run_sync(lambda s: add_rows(s.connection(), T, KEY, FIGURES, given))


async def lock_import(session: AsyncSession, import_id: int) -> None:
    """Take turns with any other undo or re-check of the import (a no-op on SQLite, which has
    one writer at a time)."""
    await session.execute(
        select(ImportRecord.id).where(ImportRecord.id == import_id).with_for_update()
    )


async def forget_import(session: AsyncSession, import_id: int) -> None:
    """Take away the totals of an import's runs, before they are deleted."""
    await lock_import(session, import_id)
    stored = await session.stream(
        facts(E.import_id == import_id).execution_options(yield_per=10_000)
    )
    totals: Totals = {}
    async for batch in stored.partitions():
        count(batch, -1, totals)
    await add(session, totals)


async def changed(session: AsyncSession, before: Runs, after: Runs) -> None:
    """Add the difference of runs whose columns were written again (a re-check)."""
    await add(session, await fold(session, after, 1, await fold(session, before, -1)))
