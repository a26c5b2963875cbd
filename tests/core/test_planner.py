"""The planner's statistics on SQLite: analyzed at start and by a daily housekeeping job
(app/core/planner.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from app.core import planner
from app.core.config import Settings
from app.core.db import Database
from app.main import create_app
from app.models import Machine
from app.scheduler.service import Scheduler

pytestmark = pytest.mark.anyio


async def statistics(db: Database) -> dict[str, str]:
    """sqlite_stat1: index name → its sampled figures (none before a first ANALYZE)."""
    async with db.engine.connect() as conn:
        there = await conn.scalar(
            text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        )
        if not there:
            return {}
        rows = await conn.execute(text("SELECT idx, stat FROM sqlite_stat1"))
        return {str(idx): str(stat) for idx, stat in rows}


async def machines(db: Database, n: int) -> None:
    async def add(session: Any) -> None:
        session.add_all(Machine(code=f"M{i}", name=f"M{i}", type="robot") for i in range(n))

    await db.run(add)


async def forget(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))


async def test_the_api_analyzes_sqlite_at_start(db: Database, settings: Settings) -> None:
    if db.dialect != "sqlite":
        await planner.refresh(db)  # nothing to do there: the servers keep their own
        return
    await forget(db)
    await machines(db, 30)
    assert await statistics(db) == {}
    app = create_app(settings, database=db)
    async with app.router.lifespan_context(app):
        stats = await statistics(db)
    assert "uq_machines_code" in stats or any("machines" in idx for idx in stats), stats
    assert any(stat.startswith("30 ") for stat in stats.values()), stats  # 30 rows sampled


async def test_the_daily_job_analyzes_again(db: Database, settings: Settings) -> None:
    scheduler = Scheduler(db, None, None, settings)  # type: ignore[arg-type]
    await scheduler._analyze()
    assert scheduler.last["housekeeping:statistics"][1] == "ok"
    if db.dialect == "sqlite":
        before = await statistics(db)
        await machines(db, 12)
        await scheduler._analyze()
        after = await statistics(db)
        assert after != before and any(stat.startswith("12 ") for stat in after.values())
    job = next(j for j in scheduler.housekeeping_jobs() if j.id == "housekeeping:statistics")
    assert job.last_status == "ok"
