"""The query planner's statistics on SQLite (ADR 0042).

SQLite plans from `sqlite_stat1`, which only ANALYZE writes: a database filled over years by
the service, never analyzed, is planned from guesses (a count over the status index chosen
where the due-date index answers in a few rows). The API therefore analyzes at start and the
scheduler once a day, with `analysis_limit` so that it samples each index instead of reading
it: milliseconds at ten million rows. PostgreSQL (autovacuum's ANALYZE) and MariaDB (InnoDB's
persistent statistics, recalculated after 10 % of a table changes) keep their own.
"""

from __future__ import annotations

import time

from app.core.db import Database
from app.core.logger import get_logger

# Rows sampled per index; SQLite's documentation suggests 100-1000 for `PRAGMA optimize`.
ANALYSIS_LIMIT = 1000
log = get_logger(__name__)


async def refresh(db: Database) -> None:
    """ANALYZE a SQLite database, sampled; nothing elsewhere."""
    if db.dialect != "sqlite":
        return
    started = time.perf_counter()
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        await conn.exec_driver_sql("ANALYZE")
    log.info("analyzed", ms=round((time.perf_counter() - started) * 1000, 1))
