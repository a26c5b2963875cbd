"""A running import's progress, in the database, so that whichever worker or replica answers
GET /imports/{id} shows it (ADR 0038).

The importing process writes it (`Reporter`) in a short transaction of its own on another
connection: the import's own transaction holds the entries until its end. At most every
IMPORT_PROGRESS_SECONDS (one small UPDATE a second beside thousands of rows inserted a second),
so the hot path does not notice; the import record gets the final figures when it ends.
A failed write is logged and skipped: progress is for display, the import goes on.

SQLite has one writer at a time and the import holds it until its end, so there the progress
is this process's only (SQLite serves one process; production refuses it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.core.logger import get_logger
from app.models import ImportProgress, ImportRecord, ImportStatus
from app.models.base import utcnow

log = get_logger(__name__)
WRITE_TIMEOUT_S = 2.0  # a write that waits longer (no free connection) is skipped


class Figures(Protocol):
    rows_total: int
    rows_imported: int
    rows_failed: int


class Reporter:
    """Writes one import's progress at most every `every` seconds (None: never)."""

    def __init__(self, db: Database, import_id: int, every: float | None) -> None:
        self.db = db
        self.import_id = import_id
        self.every = None if db.dialect == "sqlite" else every
        # The first write after `every` seconds: an import done sooner writes none.
        self.next_at = time.monotonic() + (every or 0.0)

    async def __call__(self, figures: Figures) -> None:
        if self.every is None:
            return
        now = time.monotonic()
        if now < self.next_at:
            return
        self.next_at = now + self.every
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                async with self.db.session() as session, session.begin():
                    await write(session, self.import_id, figures)
        except Exception as exc:
            log.warning("import_progress_not_written", import_id=self.import_id, error=str(exc))


async def write(session: AsyncSession, import_id: int, figures: Figures) -> None:
    values = {
        "rows_total": figures.rows_total,
        "rows_imported": figures.rows_imported,
        "rows_failed": figures.rows_failed,
        "updated_at": utcnow(),
    }
    where = ImportProgress.import_id == import_id
    result = await session.execute(update(ImportProgress).where(where).values(**values))
    if result.rowcount == 0:  # type: ignore[attr-defined]  # the first write of this attempt
        await session.execute(insert(ImportProgress).values(import_id=import_id, **values))


async def live(
    session: AsyncSession, records: Sequence[ImportRecord], own: dict[int, Any]
) -> dict[int, Any]:
    """The progress of the running imports among `records`: this process's own figures for
    the imports it runs (the freshest), the database's for the others."""
    found = {r.id: own[r.id] for r in records if r.id in own}
    others = [r.id for r in records if r.status == ImportStatus.running and r.id not in found]
    if others:
        stmt = select(ImportProgress).where(ImportProgress.import_id.in_(others))
        found.update({p.import_id: p for p in await session.scalars(stmt)})
    return found
