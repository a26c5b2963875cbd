"""Keeping `inspection_day_totals` true (ADR 0020).

A write reads the figures of every inspection it can touch — the inspection itself and the
welds it leaves and joins, whose first-inspection and repair flags it may change — before and
after it changes them, and adds the difference in the same transaction. Every figure is a count,
so differences add up whatever order concurrent writes commit in (`add_rows`, ADR 0041).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import workshop_day
from app.core.upsert import add_rows
from app.models import Inspection, InspectionDayTotal, InspectionResult, WorkOrder

T: Table = InspectionDayTotal.__table__  # type: ignore[assignment]
KEY = ("day", "dimension", "key")
FIGURES = ("inspections", "passed", "welds", "first_pass", "repaired")
NONE = ""  # the key of no welder, machine or client
DIMENSIONS = ("all", "welder", "machine", "method", "client")  # and "defect", counted apart
Totals = dict[tuple[date, str, str], list[int]]


def facts(*where: Any) -> Select[Any]:
    """What the figures of an inspection depend on, its work order's client included."""
    return (
        select(
            Inspection.inspected_at,
            Inspection.welder_id,
            Inspection.machine_id,
            Inspection.method,
            WorkOrder.client,
            Inspection.result,
            Inspection.first_of_weld,
            Inspection.weld_repaired,
            Inspection.defects,
        )
        .outerjoin(WorkOrder, WorkOrder.id == Inspection.work_order_id)
        .where(*where)
    )


def count(rows: Iterable[Sequence[Any]], sign: int = 1, into: Totals | None = None) -> Totals:
    """Add (sign 1) or take away (-1) the figures of inspections given as `facts` rows."""
    totals: Totals = {} if into is None else into
    for at, welder, machine, method, client, result, first, repaired, defects in rows:
        day = workshop_day(at)
        ok = result == InspectionResult.passed
        figures = (
            sign,
            sign * ok,
            sign * first,
            sign * (first and ok),
            sign * (first and repaired),
        )
        keys = (
            NONE,
            NONE if welder is None else str(welder),
            NONE if machine is None else str(machine),
            str(method),
            client or NONE,
        )
        for dimension, key in zip(DIMENSIONS, keys, strict=True):
            seen = totals.setdefault((day, dimension, key), [0, 0, 0, 0, 0])
            for i, figure in enumerate(figures):
                seen[i] += figure
        for defect in defects or ():
            amount = defect.get("count")
            seen = totals.setdefault((day, "defect", str(defect["code"])), [0, 0, 0, 0, 0])
            seen[0] += sign * (1 if amount is None else amount)
    return totals


def values(totals: Totals) -> list[dict[str, Any]]:
    """Rows to add, in key order (concurrent writers lock rows in the same order)."""
    return [
        {"day": day, "dimension": dimension, "key": key, **dict(zip(FIGURES, figures, strict=True))}
        for (day, dimension, key), figures in sorted(totals.items())
        if any(figures)
    ]


async def add(session: AsyncSession, totals: Totals) -> None:
    given = values(totals)
    if given:  # MariaDB: updates, then the upsert for new keys (app.core.upsert.add_rows)
        await session.run_sync(lambda s: add_rows(s.connection(), T, KEY, FIGURES, given))


class Ledger:
    """The figures of the inspections in `scope` before a write; `close` adds the change.

    Opening locks the work orders whose inspections the write can touch (in id order, so two
    writers never wait on each other crosswise): writes to one work order's inspections take
    turns, so each reads what the one before it committed, both here and for the weld flags.
    """

    def __init__(self, scope: list[Any], before: Sequence[Sequence[Any]]) -> None:
        self.scope, self.before = scope, before

    @classmethod
    async def open(
        cls, session: AsyncSession, *scope: Any, work_orders: Iterable[int | None] = ()
    ) -> Ledger:
        locked = sorted({i for i in work_orders if i is not None})
        if locked:
            await session.execute(
                select(WorkOrder.id)
                .where(WorkOrder.id.in_(locked))
                .order_by(WorkOrder.id)
                .with_for_update()
            )
        scope_ = [c for c in scope if c is not None]
        before = (await session.execute(facts(or_(*scope_)))).all() if scope_ else []
        return cls(scope_, before)

    async def close(self, session: AsyncSession, *scope: Any) -> None:
        """Read the same inspections (and any in `scope`, such as one just created) again
        and add the difference."""
        scope_ = self.scope + [c for c in scope if c is not None]
        after = (await session.execute(facts(or_(*scope_)))).all() if scope_ else []
        await add(session, count(after, 1, count(self.before, -1)))
