"""The two short caches on the request path: verified credentials and list totals.

Each is per worker; these tests use two app instances on one database as two workers."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from app.core import pagination
from app.core.db import Database
from app.main import create_app
from tests import factories as f
from tests.conftest import Headers, MakeKey, make_settings
from tests.core.test_errors import assert_problem
from tests.imports import files

Worker = Callable[..., Any]


@asynccontextmanager
async def worker(db: Database, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(**settings), database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_revocation_is_at_once_here_and_within_the_cache_time_elsewhere(
    db: Database, admin: Headers, make_key: MakeKey
) -> None:
    key = await make_key()
    async with (
        worker(db, auth_cache_seconds=300) as here,
        worker(db, auth_cache_seconds=300) as cached,
        worker(db, auth_cache_seconds=0) as uncached,
    ):
        for client in (here, cached, uncached):
            assert (await client.get("/api/v1/auth/me", headers=key)).status_code == 200
        key_id = (await here.get("/api/v1/auth/me", headers=key)).json()["id"]
        assert (await here.delete(f"/api/v1/api-keys/{key_id}", headers=admin)).status_code == 204

        # The worker that revoked forgets at once; one without the cache never remembered.
        assert_problem(await here.get("/api/v1/auth/me", headers=key), 401, "UNAUTHORIZED")
        assert_problem(await uncached.get("/api/v1/auth/me", headers=key), 401, "UNAUTHORIZED")
        # Another worker still knows the key until its entry expires (AUTH_CACHE_SECONDS).
        assert (await cached.get("/api/v1/auth/me", headers=key)).status_code == 200


async def test_list_totals_are_kept_briefly_and_has_more_never_lags(
    db: Database, client: httpx.AsyncClient, admin: Headers
) -> None:
    for i in range(3):
        await f.machine(client, admin, code=f"T{i}")
    async with (
        worker(db, list_total_cache_seconds=300) as cached,
        worker(db, list_total_cache_seconds=0) as exact,
    ):
        page = (await cached.get("/api/v1/machines?limit=1", headers=admin)).json()
        assert (page["total"], page["has_more"]) == (3, True)
        await f.machine(client, admin, code="T3")
        page = (await cached.get("/api/v1/machines?limit=1", headers=admin)).json()
        assert page["total"] == 3  # the kept count
        last = (await cached.get("/api/v1/machines?limit=1&skip=3", headers=admin)).json()
        assert last["has_more"] is False and len(last["items"]) == 1  # rows are never stale
        page = (await exact.get("/api/v1/machines?limit=1", headers=admin)).json()
        assert page["total"] == 4
        skipped = await exact.get("/api/v1/machines?limit=1&include_total=false", headers=admin)
        assert (skipped.json()["total"], skipped.json()["has_more"]) == (None, True)


async def test_requests_missing_one_total_at_once_count_it_once(
    db: Database, client: httpx.AsyncClient, admin: Headers
) -> None:
    for i in range(3):
        await f.machine(client, admin, code=f"T{i}")
    counts: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "count(*)" in statement:
            counts.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with worker(db, list_total_cache_seconds=300) as cached:
            await cached.get("/api/v1/auth/me", headers=admin)  # the key known: no writes below
            pages = await asyncio.gather(
                *(cached.get("/api/v1/machines?limit=1", headers=admin) for _ in range(8))
            )
            again = await cached.get("/api/v1/machines?limit=1&q=T", headers=admin)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert [p.json()["total"] for p in pages] == [3] * 8
    assert again.json()["total"] == 3
    assert len(counts) == 2  # one for the eight at once; another filter is another count


async def test_a_client_reads_its_own_writes_in_the_kept_totals(
    db: Database, admin: Headers
) -> None:
    """Totals are kept (LIST_TOTAL_CACHE_SECONDS), yet a worker's commit drops the ones it
    wrote to at once: an import's bulk insert, an undo's cascade. Another
    worker's kept totals lag by that time at most (here: kept for five minutes)."""
    async with (
        worker(db, list_total_cache_seconds=300) as here,
        worker(db, list_total_cache_seconds=300) as elsewhere,
    ):
        machine = await f.machine(here, admin)
        template = await f.template(
            here, admin, machine["id"], sheet="Daten", mapping=files.MAPPING, timestamp_field="ts"
        )

        async def imported(client: httpx.AsyncClient, start: int) -> int:
            response = await client.post(
                f"/api/v1/templates/{template['id']}/imports",
                files={
                    "file": (
                        "e.xlsx",
                        files.xlsx(files.rows(20, dt.datetime(2026, 11, start, 6, 0))),
                    )
                },
                headers=admin,
            )
            assert response.status_code == 201, response.text
            return int(response.json()["id"])

        async def total(client: httpx.AsyncClient, path: str = "/api/v1/workshop-entries") -> int:
            page = (await client.get(f"{path}?limit=1", headers=admin)).json()
            assert page["has_more"], "a count only runs when the page is not the whole list"
            return int(page["total"])

        first = await imported(here, 1)
        assert await total(here) == 20
        assert await total(elsewhere) == 20
        await imported(here, 2)
        assert await total(here) == 40  # not the 20 kept a moment ago
        assert await total(elsewhere) == 20  # another worker's, kept: lags until it lapses
        assert (await here.delete(f"/api/v1/imports/{first}", headers=admin)).status_code == 204
        assert await total(here) == 20  # the entries went by the foreign key's cascade


async def test_a_slow_count_is_kept_ten_times_as_long_as_it_took(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A count that took 5 s is kept 50 s, where a quick one is kept LIST_TOTAL_CACHE_SECONDS
    (at ten million rows a count kept 2 s ran almost without pause); at most 5 minutes."""
    now = [1000.0]
    counts = iter(range(1, 100))
    took = {"slow": 5.0, "quick": 0.01, "huge": 600.0}

    async def count(_session: Any, stmt: Any) -> int:
        now[0] += took[stmt.name]  # the clock moves while the table is counted
        return next(counts)

    monkeypatch.setattr(pagination, "_count", count)
    monkeypatch.setattr(pagination, "_key", lambda stmt: stmt.name)
    monkeypatch.setattr(pagination, "_tables", lambda stmt: set())
    cache = pagination.TotalsCache(2, timer=lambda: now[0])
    slow, quick, huge = (SimpleNamespace(name=name) for name in ("slow", "quick", "huge"))

    first = {name: await cache.count(None, s) for name, s in (("slow", slow), ("quick", quick))}  # type: ignore[arg-type]
    now[0] += 3  # past LIST_TOTAL_CACHE_SECONDS
    assert await cache.count(None, slow) == first["slow"]  # type: ignore[arg-type]
    assert await cache.count(None, quick) != first["quick"]  # type: ignore[arg-type]
    now[0] += 50  # past ten times the slow count
    assert await cache.count(None, slow) != first["slow"]  # type: ignore[arg-type]

    kept = await cache.count(None, huge)  # type: ignore[arg-type]
    now[0] += 299
    assert await cache.count(None, huge) == kept  # type: ignore[arg-type]
    now[0] += 2
    assert await cache.count(None, huge) != kept  # type: ignore[arg-type]
    assert pagination.keep_for(2, 0.05) == 2 and pagination.keep_for(0.5, 1.2) == 12
