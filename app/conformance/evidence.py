"""Evidence of welding, from the machines' data: a welder's latest run with a process.

Every resolved, non-tack run (an entry with a welder, a process and a verdict) is evidence that
its welder welded with its process on its day. The ASME IX process clock (QW-322.1) and the ISO
9606-1 confirmation list read it here, from the entries themselves: undoing an import removes
its runs and so its evidence, with nothing else to keep in step. One index seek per welder and
process (`ix_workshop_entries_welder_process_recorded_at`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import workshop_day
from app.models import WorkshopEntry as E


@dataclass(frozen=True)
class Evidence:
    on: date
    entry_id: int
    process: str


async def last_run(
    session: AsyncSession, welder_id: int, processes: Iterable[str], before: datetime | None
) -> Evidence | None:
    """The welder's latest run with any of `processes` (before `before`, when given)."""
    latest: Evidence | None = None
    for process in sorted(set(processes)):
        stmt = (
            select(E.recorded_at, E.id)
            .where(E.welder_id == welder_id, E.process == process, E.verdict.is_not(None))
            .order_by(E.recorded_at.desc(), E.id.desc())
            .limit(1)
        )
        stmt = stmt.where(E.recorded_at.is_not(None))
        if before is not None:
            stmt = stmt.where(E.recorded_at < before)
        row = (await session.execute(stmt)).first()
        if row is not None and (latest is None or workshop_day(row.recorded_at) > latest.on):
            latest = Evidence(workshop_day(row.recorded_at), row.id, process)
    return latest
