"""A running import's progress, from whichever worker answers (ADR 0038).

Two app instances on one database stand for two workers. The import is held in its last step
(the dashboard's day totals, after every row is in) by a lock the test takes on that table, so
it stays `running` for as long as the test looks at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from app.core.db import Database
from app.models import ImportProgress, ImportStatus
from tests.auth.workers import worker
from tests.conftest import Headers, wait_for
from tests.imports import files

ROWS = 3000
pytestmark = pytest.mark.backends("mariadb", "postgresql")  # SQLite: one process, one writer


@asynccontextmanager
async def day_totals_locked(db: Database) -> AsyncIterator[None]:
    """Nobody writes the dashboard's day totals until the block ends."""
    async with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text("BEGIN"))
            await conn.execute(text("LOCK TABLE entry_day_totals IN EXCLUSIVE MODE"))
        else:
            await conn.execute(text("LOCK TABLES entry_day_totals WRITE"))
        try:
            yield
        finally:
            await conn.execute(text("ROLLBACK" if db.dialect == "postgresql" else "UNLOCK TABLES"))


async def make_template(client: httpx.AsyncClient, headers: Headers) -> int:
    machine = (
        await client.post(
            "/api/v1/machines", json={"code": "P1", "name": "p", "type": "robot"}, headers=headers
        )
    ).json()
    template = (
        await client.post(
            "/api/v1/templates",
            headers=headers,
            json={
                "name": "progress",
                "machine_id": machine["id"],
                "sheet": "Daten",
                "mapping": files.MAPPING,
                "timestamp_field": "ts",
            },
        )
    ).json()
    return int(template["id"])


async def start_import(client: httpx.AsyncClient, headers: Headers, template_id: int) -> int:
    response = await client.post(
        f"/api/v1/templates/{template_id}/imports",
        files={"file": ("big.xlsx", files.cached_xlsx(ROWS))},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


async def test_any_worker_shows_a_running_imports_progress(db: Database, admin: Headers) -> None:
    small = {"import_sync_max_rows": 100, "import_chunk_rows": 500, "import_progress_seconds": 0}
    async with (
        worker(db, **small) as (here, here_app),
        worker(db, **small) as (elsewhere, _),
    ):
        template_id = await make_template(here, admin)
        async with day_totals_locked(db):
            import_id = await start_import(here, admin, template_id)
            own = here_app.state.importer.progress

            async def all_rows_in() -> bool:
                return import_id in own and own[import_id].rows_imported == ROWS

            await wait_for(all_rows_in, timeout=60, interval=0.05)

            async def seen_elsewhere() -> dict[str, Any] | None:
                response = await elsewhere.get(f"/api/v1/imports/{import_id}", headers=admin)
                record: dict[str, Any] = response.json()
                return record if record["rows_imported"] == ROWS else None

            # The last chunk's figures are written as the next message (the totals) comes.
            record = await wait_for(seen_elsewhere, timeout=10, interval=0.05)
            assert record["status"] == "running"
            assert (record["rows_total"], record["rows_failed"]) == (ROWS, 0)
            # Its ETag follows the answer, not the version progress never changes: the
            # version's tag is no reason for a 304 while it runs.
            version_tag = {**admin, "If-None-Match": f'"{record["version"]}"'}
            polled = await elsewhere.get(f"/api/v1/imports/{import_id}", headers=version_tag)
            assert polled.status_code == 200
            assert polled.headers["ETag"] != f'"{record["version"]}"'
            listed = (await elsewhere.get("/api/v1/imports", headers=admin)).json()["items"]
            assert [(r["id"], r["rows_imported"]) for r in listed] == [(import_id, ROWS)]
            # It is the database's: a connection of its own reads it.
            stored = await db.run(
                lambda s: s.scalar(
                    select(ImportProgress).where(ImportProgress.import_id == import_id)
                ),
                write=False,
            )
            assert stored is not None and stored.rows_imported == ROWS

        await here_app.state.importer.wait_idle()
        done = (await elsewhere.get(f"/api/v1/imports/{import_id}", headers=admin)).json()
        assert (done["status"], done["rows_imported"]) == (ImportStatus.completed, ROWS)
        tag = (await elsewhere.get(f"/api/v1/imports/{import_id}", headers=admin)).headers
        assert tag["ETag"] == f'"{done["version"]}"'  # done: tagged by its version again
        undone = await elsewhere.delete(f"/api/v1/imports/{import_id}", headers=admin)
        assert undone.status_code == 204
    left = await db.run(lambda s: s.scalar(select(ImportProgress)), write=False)
    assert left is None  # gone with its import
