"""Was a welding machine's validation (IEC 60974-14) in force on a given day?

For the conformance of weld runs: a run welded on a machine whose meters were not validated
that day was measured with instruments nobody vouched for. `lapsed_days` reads the machine's
history once and answers for any number of days without another query, so an import asks once
per machine, not once per run.

A machine that requires no validation (`validation_interval_days` null), or that does not
exist, never lapses. Otherwise the day is covered when the latest validation on or before it
(latest day, then latest recorded) has a `pass` or `adjusted` result and its due date, read
with the machine's current interval exactly as `validation_due` is (app/core/history.py), is
on or after the day. Before the first validation, and from the day of a `fail` until the next
validation, the machine has lapsed. The interval is today's setting (its past values are not
kept), so a machine that needs validation from now on has lapsed on every day before its first
one. ADR 0031.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.history import due_date
from app.models import CheckResult, Machine, MachineValidation

COVERING = frozenset({CheckResult.passed, CheckResult.adjusted})


def _never(_day: date) -> bool:
    return False


async def lapsed_days(session: AsyncSession, machine_id: int) -> Callable[[date], bool]:
    """A function telling, for a day, whether the machine's validation had lapsed on it."""
    interval = await session.scalar(
        select(Machine.validation_interval_days).where(Machine.id == machine_id)
    )
    if interval is None:
        return _never
    rows = (
        await session.execute(
            select(
                MachineValidation.validated_on,
                MachineValidation.result,
                MachineValidation.next_due,
            )
            .where(MachineValidation.machine_id == machine_id)
            .order_by(MachineValidation.validated_on, MachineValidation.id)
        )
    ).all()
    days = [row[0] for row in rows]
    covered_until = [
        due_date(result, day, interval, kept) if result in COVERING else None
        for day, result, kept in rows
    ]

    def lapsed(day: date) -> bool:
        latest = bisect_right(days, day) - 1
        if latest < 0:
            return True
        until = covered_until[latest]
        return until is None or until < day

    return lapsed
