"""An import left `running` by a process that died is marked failed at the next start."""

from __future__ import annotations

import os
import socket
import subprocess

from sqlalchemy import select

from app.core.db import Database
from app.imports.recovery import recover_interrupted
from app.imports.service import WORKER_ID
from app.models import ImportRecord, ImportStatus
from app.models.base import utcnow
from tests import factories as f
from tests.conftest import Headers


async def test_dead_workers_imports_are_marked_failed(client, admin: Headers, db: Database) -> None:  # type: ignore[no-untyped-def]
    machine = await f.machine(client, admin)
    template = await f.template(client, admin, machine["id"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    workers = {
        "dead": f"{host}:{dead.pid}:deadbeef",
        "alive": f"{host}:{os.getppid()}:cafebabe",
        "elsewhere": f"other-host:{dead.pid}:01234567",
        "mine": WORKER_ID,
    }

    async def add(session):  # type: ignore[no-untyped-def]
        for name, worker in workers.items():
            session.add(
                ImportRecord(
                    template_id=template["id"],
                    source="upload",
                    original_filename=f"{name}.xlsx",
                    file_format="xlsx",
                    sha256=name.ljust(64, "0"),
                    dedupe_key=name.ljust(64, "0"),
                    size_bytes=1,
                    status=ImportStatus.running,
                    on_error="abort",
                    errors=[],
                    worker=worker,
                    started_at=utcnow(),
                )
            )

    await db.run(add)
    assert await recover_interrupted(db) == 1
    rows = await db.run(
        lambda s: s.execute(
            select(
                ImportRecord.original_filename,
                ImportRecord.status,
                ImportRecord.dedupe_key,
                ImportRecord.message,
            )
        )
    )
    state = {
        name.removesuffix(".xlsx"): (status, key, message) for name, status, key, message in rows
    }
    assert state["dead"][0] == ImportStatus.failed
    assert state["dead"][1] is None, "the failed import releases its file"
    assert "Interrupted" in state["dead"][2]
    assert {state[n][0] for n in ("alive", "elsewhere", "mine")} == {ImportStatus.running}
