from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.db import Database
from app.main import create_app
from tests.conftest import make_settings, wait_for


async def test_health_is_public_and_cheap(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"]
    assert body["uptime_s"] >= 0
    assert response.headers["x-request-id"]


async def test_health_db_reports_the_dialect(client: httpx.AsyncClient, backend: str) -> None:
    response = await client.get("/health/db")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": backend}


async def test_health_status_lists_components(client: httpx.AsyncClient) -> None:
    body = (await client.get("/health/status")).json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["status"] == "ok"
    assert {"version", "uptime_s"} <= body.keys()


Pings = Counter[str]


def count_pings(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Pings:
    """Count the calls that reach each dependency; each still pings it for real."""
    pings: Pings = Counter()
    targets = {
        "database": app.state.db,
        "storage": app.state.storage,
        "rate_limit_store": app.state.rate_limiter,
    }
    for name, target in targets.items():

        async def ping(*args: Any, _name: str = name, _real: Any = target.ping) -> Any:
            pings[_name] += 1
            return await _real(*args)

        monkeypatch.setattr(target, "ping", ping)
    return pings


@pytest.fixture
async def status_client(
    db: Database, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(make_settings(health_status_cache_seconds=request.param), database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield app, client


@pytest.mark.parametrize("status_client", [300], indirect=True)
async def test_a_flood_of_status_calls_pings_each_dependency_once(
    status_client: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client = status_client
    pings = count_pings(app, monkeypatch)
    responses = await asyncio.gather(*(client.get("/health/status") for _ in range(30)))
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["status"] for r in responses} == {"ok"}
    assert pings == {"database": 1, "storage": 1, "rate_limit_store": 1}


@pytest.mark.parametrize("status_client", [0.2], indirect=True)
async def test_status_pings_again_after_the_period(
    status_client: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client = status_client
    pings = count_pings(app, monkeypatch)

    async def pinged_twice() -> bool:
        await client.get("/health/status")
        return pings["database"] >= 2

    await wait_for(pinged_twice, timeout=10, interval=0.05)
    assert pings["database"] == pings["storage"] == pings["rate_limit_store"] == 2


@pytest.mark.parametrize("status_client", [0], indirect=True)
async def test_status_cache_of_zero_pings_every_call(
    status_client: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client = status_client
    pings = count_pings(app, monkeypatch)
    for _ in range(3):
        assert (await client.get("/health/status")).status_code == 200
    assert pings == {"database": 3, "storage": 3, "rate_limit_store": 3}
