"""The service leaves no greenlet state behind in the SQLite driver's threads.

Each SQLite connection has its own thread, and threads come and go with the pool. A thread that
ever touched greenlet leaves state that greenlet destroys later from the main thread; with a
tracer active there, the test suite once spun forever in that clean-up (ADR 0023). Only the
event loop's thread may run greenlets: this runs the driver without coverage and counts them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, threading
    from greenlet import _greenlet
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from app.core.db import Database
    from tests.conftest import make_settings

    async def main(path):
        db = Database(make_settings(), make_url(f"sqlite+aiosqlite:///{path}"))

        async def one(_):
            async with db.session() as session, session.begin():
                await session.execute(text("SELECT 1"))
                await asyncio.sleep(0.01)

        await asyncio.gather(*(one(i) for i in range(40)))  # past the pool: threads end
        counts = threading.active_count(), _greenlet.get_total_main_greenlets()
        await db.dispose()
        return counts

    threads, main_greenlets = asyncio.run(main(sys.argv[1]))
    print(threads, main_greenlets, _greenlet.get_pending_cleanup_count())
    """
)


def test_sqlite_driver_threads_never_touch_greenlet(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "COVERAGE_"))}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "db.sqlite")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    threads, main_greenlets, pending = map(int, result.stdout.split())
    assert threads > 2  # the driver's threads were there
    assert (main_greenlets, pending) == (1, 0)  # the event loop's thread alone


def test_coverage_does_not_track_greenlets() -> None:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())
    concurrency = settings["tool"]["coverage"]["run"]["concurrency"]
    assert "greenlet" not in concurrency, "see ADR 0023 before tracking greenlets again"
