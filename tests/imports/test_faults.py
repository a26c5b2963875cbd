"""Faults around imports: the database going away mid-import, the upload volume full.

Each ends with the data as it was: no entries of a failed import, no record without its file,
no file without its record, and the service working again without a restart."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from app.core.config import Settings
from app.core.db import Database
from app.imports.service import Progress
from app.main import create_app
from app.models import ImportRecord, WorkshopEntry
from tests.conftest import Headers, make_settings, wait_for
from tests.core.test_errors import assert_problem
from tests.imports import files
from tests.imports.conftest import counts, stored_files
from tests.tcp_proxy import TcpProxy


async def record(db: Database, import_id: int) -> ImportRecord:
    return await db.run(lambda s: s.get_one(ImportRecord, import_id), write=False)


async def entries_of(db: Database, import_id: int) -> int:
    stmt = (
        select(func.count()).select_from(WorkshopEntry).where(WorkshopEntry.import_id == import_id)
    )
    return int(await db.run(lambda s: s.scalar(stmt), write=False) or 0)


@pytest.mark.backends("mariadb", "postgresql")
async def test_database_lost_mid_import_fails_it_cleanly_and_recovers(
    proxy: TcpProxy,
    database_url: URL,
    db: Database,
    settings: Settings,
    template: dict[str, Any],
    admin: Headers,
    tmp_path: Path,
) -> None:
    proxied = Database(settings, database_url.set(host="127.0.0.1", port=proxy.port))
    app = create_app(
        make_settings(upload_dir=tmp_path / "uploads", import_sync_max_rows=100), database=proxied
    )
    importer = app.state.importer
    content = files.cached_xlsx(30_000)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def send() -> int:
            response = await client.post(
                f"/api/v1/templates/{template['id']}/imports",
                files={"file": ("shift.xlsx", content, "application/octet-stream")},
                headers=admin,
            )
            assert response.status_code == 202, response.text  # large: in the background
            return int(response.json()["id"])

        first = await send()

        # Rows are going in (inside the import's one transaction) when the database goes away.
        async def inserting() -> bool:
            return importer.progress.get(first, Progress()).rows_imported > 0

        await wait_for(inserting, timeout=60, interval=0.01)
        await proxy.cut()
        response = await client.get(f"/api/v1/imports/{first}", headers=admin)
        assert_problem(response, 503, "DATABASE_UNAVAILABLE")
        await asyncio.sleep(0.5)  # let the import meet the outage; either order must end well
        await proxy.restore()

        async def first_failed() -> bool:
            return (await record(db, first)).status.value == "failed"

        await wait_for(first_failed, timeout=60)
        failed = await record(db, first)
        assert failed.rows_imported == 0 and failed.dedupe_key is None
        assert await entries_of(db, first) == 0  # the transaction was rolled back whole

        # No restart: the same file imports in full once the database is back.
        second = await send()

        async def second_done() -> bool:
            return (await record(db, second)).status.value == "completed"

        await wait_for(second_done, timeout=60)
        assert await entries_of(db, second) == 30_000
        await importer.wait_idle()
    await proxied.dispose()


@pytest.fixture
def full_volume(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs as the upload folder (needs root, as on the CI machine)."""
    mount = tmp_path / "uploads"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        reason = f"cannot mount a small tmpfs: {done.stderr.decode().strip()}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


async def test_upload_volume_full_is_507_and_leaves_nothing(
    db: Database, template: dict[str, Any], admin: Headers, full_volume: Path
) -> None:
    app = create_app(make_settings(upload_dir=full_volume), database=db)
    content = files.cached_xlsx(5_000)
    assert len(content) > 64 * 1024
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            f"/api/v1/templates/{template['id']}/imports",
            files={"file": ("shift.xlsx", content, "application/octet-stream")},
            headers=admin,
        )
        assert_problem(response, 507, "INSUFFICIENT_STORAGE")
        assert await counts(db) == (0, 0)  # no record without its file
        assert stored_files(full_volume) == []  # no half-written file either

        small = files.xlsx(files.rows(3))  # what fits still goes in
        response = await client.post(
            f"/api/v1/templates/{template['id']}/imports",
            files={"file": ("small.xlsx", small, "application/octet-stream")},
            headers=admin,
        )
        assert response.status_code == 201, response.text
        assert await counts(db) == (1, 3)
