from __future__ import annotations

import httpx


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
