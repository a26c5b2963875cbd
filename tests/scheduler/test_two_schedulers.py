"""Two scheduler processes, one database, one folder of 20 files: each file imported once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from app.core.db import Database
from app.main import create_app
from app.models import ImportRecord, ImportStatus, WorkshopEntry
from tests import factories as f
from tests.conftest import Headers, make_settings
from tests.imports import files
from tests.imports.files import MAPPING

pytestmark = pytest.mark.backends("mariadb", "postgresql")
WORKSHOP = str(Path(sys.executable).parent / "workshop")


async def test_two_schedulers_import_each_file_exactly_once(
    admin: Headers, db: Database, database_url: URL, tmp_path: Path
) -> None:
    app = create_app(make_settings(import_source_roots=str(tmp_path)), database=db)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(20):
        (inbox / f"export_{n:02}.xlsx").write_bytes(
            files.xlsx(files.rows(5, start=__import__("datetime").datetime(2026, 1, 1 + n)))
        )
    machine = await f.machine(client, admin)
    template = await f.template(
        client, admin, machine["id"], sheet="Daten", mapping=MAPPING, timestamp_field="ts"
    )
    await f.post(
        client,
        admin,
        "/api/v1/import-schedules",
        {
            "name": "race",
            "template_id": template["id"],
            "source_uri": inbox.as_uri(),
            "cron": "* * * * * *",
        },
    )

    env = {
        **os.environ,
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "IMPORT_SOURCE_ROOTS": str(tmp_path),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "IMPORT_SETTLE_SECONDS": "0",
        "SCHEDULER_SYNC_SECONDS": "0.5",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CI", None)
    procs = [
        subprocess.Popen(
            [WORKSHOP, "scheduler"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        for _ in range(2)
    ]

    async def completed() -> int:
        stmt = (
            select(func.count())
            .select_from(ImportRecord)
            .where(ImportRecord.status == ImportStatus.completed)
        )
        return int(await db.run(lambda s: s.scalar(stmt), write=False) or 0)

    try:
        deadline = time.monotonic() + 120
        while await completed() < 20:
            assert all(p.poll() is None for p in procs), (
                procs[0].stderr.read() if procs[0].stderr else ""
            )
            assert time.monotonic() < deadline, f"only {await completed()} of 20 imported"
            await asyncio.sleep(0.5)
        await asyncio.sleep(2.5)  # both schedulers run a few more times over the same folder
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)

    per_file = select(ImportRecord.sha256, func.count()).group_by(ImportRecord.sha256)
    counts = dict((await db.run(lambda s: s.execute(per_file), write=False)).all())
    assert len(counts) == 20
    assert set(counts.values()) == {1}, "a file was imported twice"
    entries = await db.run(
        lambda s: s.scalar(select(func.count()).select_from(WorkshopEntry)), write=False
    )
    assert entries == 100
    workers = await db.run(lambda s: s.scalars(select(ImportRecord.worker).distinct()), write=False)
    assert len(set(workers)) == 2, "both schedulers took part"
