"""Scheduled imports with real timers (cron with seconds), a real folder, a real webhook."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.core.db import Database
from app.main import create_app
from app.models import ImportRecord, WorkshopEntry
from app.scheduler.service import Scheduler
from tests import factories as f
from tests.conftest import Headers, make_settings, wait_for
from tests.core.test_errors import assert_problem
from tests.imports import files
from tests.imports.files import MAPPING


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox" / "cell1"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def webhook() -> Iterator[dict[str, Any]]:
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/alerts", "received": received}
    server.shutdown()


@pytest.fixture
async def env(
    db: Database, inbox: Path, tmp_path: Path, webhook: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """An app whose scheduler runs in the test's event loop, on short timers."""
    settings = make_settings(
        upload_dir=tmp_path / "uploads",
        import_source_roots=str(tmp_path / "inbox"),
        import_settle_seconds=1,
        scheduler_sync_seconds=0.5,
        import_retry_base_seconds=0.05,
        alert_webhook_url=webhook["url"],
        alert_timeout_seconds=2,
        webhook_deliver_seconds=0.2,
    )
    app = create_app(settings, database=db)
    scheduler = Scheduler(db, app.state.importer, app.state.storage, settings)
    app.state.scheduler = scheduler
    await scheduler.start()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield {"client": c, "app": app, "settings": settings}
    await scheduler.shutdown()
    await app.state.importer.wait_idle()


async def template_id(client: httpx.AsyncClient, admin: Headers) -> int:
    machine = await f.machine(client, admin)
    return int(
        (
            await f.template(
                client, admin, machine["id"], sheet="Daten", mapping=MAPPING, timestamp_field="ts"
            )
        )["id"]
    )


def drop(folder: Path, name: str, content: bytes, age_s: float = 5) -> Path:
    path = folder / name
    path.write_bytes(content)
    past = time.time() - age_s
    os.utime(path, (past, past))
    return path


async def count(db: Database, model: Any, *where: Any) -> int:
    stmt = select(func.count()).select_from(model).where(*where)
    return int(await db.run(lambda s: s.scalar(stmt), write=False) or 0)


async def test_dropped_files_become_entries_without_any_api_call(
    env: dict[str, Any], admin: Headers, inbox: Path, db: Database
) -> None:
    client = env["client"]
    tid = await template_id(client, admin)
    schedule = await f.post(
        client,
        admin,
        "/api/v1/import-schedules",
        {
            "name": "cell 1",
            "template_id": tid,
            "source_uri": inbox.as_uri(),
            "pattern": "*.xlsx",
            "cron": "* * * * * *",
        },
    )
    assert schedule["next_run_at"] is not None
    content = files.xlsx(files.rows(7))
    drop(inbox, "shift1.xlsx", content)
    await wait_for(lambda: count(db, WorkshopEntry))
    assert await count(db, WorkshopEntry) == 7
    record = (await client.get("/api/v1/imports", headers=admin)).json()["items"][0]
    assert (record["source"], record["status"], record["original_filename"]) == (
        "schedule",
        "completed",
        "shift1.xlsx",
    )

    # The same content under another name is not imported again; a half-written file waits.
    drop(inbox, "shift1-copy.xlsx", content)
    growing = drop(
        inbox,
        "shift2.xlsx",
        files.xlsx(files.rows(3, start=__import__("datetime").datetime(2026, 1, 1))),
        age_s=0,
    )
    for _ in range(12):  # the machine is still writing it: its mtime keeps moving
        os.utime(growing, None)
        await asyncio.sleep(0.2)
    assert await count(db, ImportRecord) == 1
    report = (await client.get(f"/api/v1/import-schedules/{schedule['id']}", headers=admin)).json()
    assert report["last_status"] == "ok"

    # ...then it stops writing, and the file is taken once it has settled.
    async def all_in() -> bool:  # the second import's transaction has committed
        return await count(db, WorkshopEntry) == 10

    await wait_for(all_in)
    assert await count(db, ImportRecord) == 2

    jobs = (await client.get("/api/v1/scheduler/jobs", headers=admin)).json()
    job = next(j for j in jobs if j["id"] == f"schedule:{schedule['id']}")
    assert job["last_status"] == "ok" and job["next_run_at"] and job["last_run_at"]
    assert {j["kind"] for j in jobs} == {"schedule", "housekeeping"}


async def test_a_broken_file_fails_after_max_attempts_and_alerts(
    env: dict[str, Any], admin: Headers, inbox: Path, webhook: dict[str, Any], db: Database
) -> None:
    client = env["client"]
    tid = await template_id(client, admin)
    data = files.rows(5)
    data[2][1] = "not a number"
    drop(inbox, "broken.xlsx", files.xlsx(data))
    schedule = await f.post(
        client,
        admin,
        "/api/v1/import-schedules",
        {
            "name": "broken",
            "template_id": tid,
            "source_uri": inbox.as_uri(),
            "cron": "* * * * * *",
            "max_attempts": 3,
        },
    )
    alert = await wait_for(lambda: asyncio.sleep(0, webhook["received"]))
    assert alert[0]["event"] == "import_failed"
    assert alert[0]["attempts"] == 3 and alert[0]["schedule_id"] == schedule["id"]
    assert "1 of 5 rows are invalid" in alert[0]["error"]
    record = (await client.get(f"/api/v1/imports/{alert[0]['import_id']}", headers=admin)).json()
    assert (record["status"], record["attempts"]) == ("failed", 3)
    assert record["errors"][0]["row"] == 4
    await asyncio.sleep(2)  # later runs leave it alone: it gave up
    assert len(webhook["received"]) == 1
    assert await count(db, ImportRecord) == 1
    report = (
        await client.post(f"/api/v1/import-schedules/{schedule['id']}/run", headers=admin)
    ).json()
    assert [(o["name"], o["outcome"]) for o in report["files"]] == [
        ("broken.xlsx", "skipped_given_up")
    ]


async def test_a_dead_webhook_does_not_break_the_run(
    db: Database, inbox: Path, tmp_path: Path, admin: Headers
) -> None:
    settings = make_settings(
        upload_dir=tmp_path / "u",
        import_source_roots=str(tmp_path / "inbox"),
        import_settle_seconds=0,
        import_retry_base_seconds=0,
        alert_webhook_url="http://127.0.0.1:9/nobody",
        alert_timeout_seconds=1,
    )
    app = create_app(settings, database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        tid = await template_id(client, admin)
        drop(inbox, "bad.xlsx", b"not a workbook")
        drop(inbox, "good.xlsx", files.xlsx(files.rows(2)))
        schedule = await f.post(
            client,
            admin,
            "/api/v1/import-schedules",
            {
                "name": "dead hook",
                "template_id": tid,
                "source_uri": inbox.as_uri(),
                "cron": "0 3 * * *",
                "max_attempts": 1,
            },
        )
        report = await client.post(f"/api/v1/import-schedules/{schedule['id']}/run", headers=admin)
        assert report.status_code == 200
        outcomes = {o["name"]: o["outcome"] for o in report.json()["files"]}
        assert outcomes == {"bad.xlsx": "failed", "good.xlsx": "imported"}
        assert report.json()["status"] == "partial"
        stored = (
            await client.get(f"/api/v1/import-schedules/{schedule['id']}", headers=admin)
        ).json()
        assert stored["last_status"] == "partial" and "1 file(s) failed" in stored["last_message"]


async def test_an_edit_through_the_api_takes_effect_without_a_restart(
    env: dict[str, Any], admin: Headers, inbox: Path, db: Database
) -> None:
    client = env["client"]
    tid = await template_id(client, admin)
    drop(inbox, "a.xlsx", files.xlsx(files.rows(2)))
    schedule = await f.post(
        client,
        admin,
        "/api/v1/import-schedules",
        {
            "name": "paused",
            "template_id": tid,
            "source_uri": inbox.as_uri(),
            "cron": "* * * * * *",
            "enabled": False,
        },
    )
    assert schedule["next_run_at"] is None
    await asyncio.sleep(2)
    assert await count(db, ImportRecord) == 0
    url = f"/api/v1/import-schedules/{schedule['id']}"
    enabled = await client.patch(url, json={"enabled": True}, headers=admin)
    assert enabled.status_code == 200 and enabled.json()["next_run_at"]
    await wait_for(lambda: count(db, ImportRecord))
    # Narrowing the pattern stops new files of the old kind from being taken.
    await client.patch(url, json={"pattern": "*.xls"}, headers=admin)
    await asyncio.sleep(1.5)  # a run that began before the edit has finished
    drop(inbox, "b.xlsx", files.xlsx(files.rows(3)))
    await asyncio.sleep(2)
    assert await count(db, ImportRecord) == 1


async def test_schedule_validation_and_permissions(
    env: dict[str, Any], admin: Headers, make_key: Any, tmp_path: Path
) -> None:
    from app.auth.roles import Role

    client = env["client"]
    tid = await template_id(client, admin)
    url = "/api/v1/import-schedules"
    good = {
        "name": "v",
        "template_id": tid,
        "source_uri": (tmp_path / "inbox").as_uri(),
        "cron": "*/5 * * * *",
    }
    for bad, field in (
        ({"cron": "every minute"}, "cron"),
        ({"cron": "61 * * * *"}, "cron"),
        ({"source_uri": "file:///etc"}, "source_uri"),
        ({"source_uri": (tmp_path / "inbox" / ".." / "..").as_uri()}, "source_uri"),
        ({"source_uri": "ftp://x/y"}, "source_uri"),
        ({"pattern": "../*.xlsx"}, "pattern"),
        ({"template_id": 987654}, "template_id"),
        ({"max_attempts": 0}, "max_attempts"),
    ):
        problem = assert_problem(
            await client.post(url, json={**good, **bad}, headers=admin), 422, "VALIDATION_ERROR"
        )
        assert field in str(problem["errors"])
    created = await f.post(client, admin, url, good)
    assert_problem(await client.post(url, json=good, headers=admin), 409, "CONFLICT")
    operator = await make_key(Role.operator)
    assert_problem(
        await client.post(url, json={**good, "name": "w"}, headers=operator), 403, "FORBIDDEN"
    )
    assert_problem(
        await client.post(f"{url}/{created['id']}/run", headers=operator), 403, "FORBIDDEN"
    )
    assert (await client.get(url, headers=operator)).json()["total"] == 1
    assert (await client.get("/api/v1/scheduler/jobs", headers=operator)).status_code == 200
    assert_problem(await client.post(f"{url}/987654/run", headers=admin), 404, "NOT_FOUND")
    replaced = await client.put(
        f"{url}/{created['id']}", json={**good, "cron": "0 6 * * 1-5"}, headers=admin
    )
    assert replaced.json()["cron"] == "0 6 * * 1-5"
    assert (await client.delete(f"{url}/{created['id']}", headers=admin)).status_code == 204


async def test_housekeeping_expires_old_files_and_fails_stuck_imports(
    env: dict[str, Any], admin: Headers, db: Database
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from app.models.base import utcnow
    from app.scheduler import runner

    client = env["client"]
    tid = await template_id(client, admin)
    response = await client.post(
        f"/api/v1/templates/{tid}/imports",
        files={"file": ("old.xlsx", files.xlsx(files.rows(2)))},
        headers=admin,
    )
    record = response.json()
    long_ago = utcnow() - timedelta(days=400)
    await db.run(lambda s: s.execute(update(ImportRecord).values(created_at=long_ago)))
    assert await runner.expire_files(db, env["app"].state.storage, env["settings"]) == 1
    expired = (await client.get(f"/api/v1/imports/{record['id']}", headers=admin)).json()
    assert expired["file_available"] is False and expired["status"] == "completed"
    assert_problem(
        await client.get(f"/api/v1/imports/{record['id']}/file", headers=admin), 410, "GONE"
    )
    await db.run(
        lambda s: s.execute(update(ImportRecord).values(status="running", started_at=long_ago))
    )
    assert await runner.fail_stuck_imports(db, env["settings"]) == 1
    stuck = (await client.get(f"/api/v1/imports/{record['id']}", headers=admin)).json()
    assert stuck["status"] == "failed" and "Stuck" in stuck["message"]


async def test_a_file_past_max_file_size_fails_without_being_copied(
    db: Database, inbox: Path, tmp_path: Path, admin: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.scheduler import sources

    async def no_copy(*args: Any) -> None:
        raise AssertionError("a file past MAX_FILE_SIZE was copied")

    monkeypatch.setattr(sources.LocalSource, "fetch", no_copy)
    settings = make_settings(
        upload_dir=tmp_path / "uploads",
        import_source_roots=str(inbox),
        import_settle_seconds=0,
        max_file_size=1000,
    )
    app = create_app(settings, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        tid = await template_id(c, admin)
        schedule = await f.post(
            c,
            admin,
            "/api/v1/import-schedules",
            {"name": "big", "template_id": tid, "source_uri": inbox.as_uri(), "cron": "0 0 * * *"},
        )
        drop(inbox, "huge.xlsx", b"x" * 5000)
        report = (
            await c.post(f"/api/v1/import-schedules/{schedule['id']}/run", headers=admin)
        ).json()
    (outcome,) = report["files"]
    assert outcome["outcome"] == "failed" and "MAX_FILE_SIZE" in outcome["message"]
    assert await count(db, ImportRecord) == 0


async def test_a_schedule_takes_up_only_its_own_failed_imports(
    env: dict[str, Any], admin: Headers, inbox: Path, db: Database
) -> None:
    """A user's failed upload of the same content stays the user's: the schedule makes an
    import of its own instead of rewriting that record as its retry."""
    import hashlib

    from app.imports import lifecycle
    from app.models import ImportSource

    client = env["client"]
    tid = await template_id(client, admin)
    content = files.xlsx(files.rows(4))
    sha = hashlib.sha256(content).hexdigest()

    async def failed_upload(session: Any) -> int:
        record_id = await lifecycle.claim(
            session,
            worker="elsewhere",
            template_id=tid,
            source=ImportSource.upload,
            original_filename="mine.xlsx",
            storage_key="imports/gone.xlsx",
            file_format="xlsx",
            sha256=sha,
            size_bytes=len(content),
            on_error="abort",
            force=False,
            created_by="user:7",
            schedule_id=None,
            source_path=None,
        )
        await lifecycle.fail(
            session, record_id, message="boom", errors=[], rows_total=0, rows_failed=0
        )
        return record_id

    upload_id = await db.run(failed_upload)
    schedule = await f.post(
        client,
        admin,
        "/api/v1/import-schedules",
        {"name": "own", "template_id": tid, "source_uri": inbox.as_uri(), "cron": "0 0 * * *"},
    )
    drop(inbox, "again.xlsx", content)
    report = (
        await client.post(f"/api/v1/import-schedules/{schedule['id']}/run", headers=admin)
    ).json()
    (outcome,) = report["files"]
    assert outcome["outcome"] == "imported" and outcome["import_id"] != upload_id
    theirs = (await client.get(f"/api/v1/imports/{upload_id}", headers=admin)).json()
    assert (theirs["source"], theirs["status"], theirs["attempts"]) == ("upload", "failed", 1)
