"""The database going away mid-life: 503 while it is gone, back to normal without a restart.

The app talks to the shared server through a TCP proxy the test controls, so cutting "the
database" does not disturb other tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import URL

from app.core.config import Settings
from app.core.db import Database
from app.main import create_app
from tests.conftest import Headers
from tests.core.test_errors import assert_problem
from tests.tcp_proxy import TcpProxy  # the `proxy` fixture is in tests/conftest.py

pytestmark = pytest.mark.backends("mariadb", "postgresql")


@pytest.fixture
async def proxied_client(
    proxy: TcpProxy, database_url: URL, db: Database, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    proxied = Database(settings, database_url.set(host="127.0.0.1", port=proxy.port))
    app = create_app(settings, database=proxied)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client
    await proxied.dispose()


async def test_outage_gives_503_and_recovery_needs_no_restart(
    proxy: TcpProxy, proxied_client: httpx.AsyncClient, admin: Headers
) -> None:
    client = proxied_client
    assert (await client.get("/health/db")).status_code == 200
    assert (await client.get("/api/v1/api-keys", headers=admin)).status_code == 200

    await proxy.cut()
    down = await client.get("/health/db")
    assert down.status_code == 503
    assert down.json()["status"] == "down"
    assert (await client.get("/health/status")).json()["status"] == "degraded"
    response = await client.get("/api/v1/api-keys", headers=admin)
    assert_problem(response, 503, "DATABASE_UNAVAILABLE")
    response = await client.post(
        "/api/v1/api-keys", json={"name": "during outage", "role": "viewer"}, headers=admin
    )
    assert_problem(response, 503, "DATABASE_UNAVAILABLE")

    await proxy.restore()
    assert (await client.get("/health/db")).status_code == 200
    listed = await client.get("/api/v1/api-keys", headers=admin)
    assert listed.status_code == 200
    assert all(k["name"] != "during outage" for k in listed.json())
