from __future__ import annotations

import httpx
import pytest

from app.core.db import Database
from app.main import create_app
from tests.conftest import Headers, make_settings
from tests.core.test_errors import assert_problem
from tests.imports import files


async def test_metrics_count_requests_imports_and_pool(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await client.get("/api/v1/machines", headers=admin)
    machine = (
        await client.post(
            "/api/v1/machines", json={"code": "MX", "name": "x", "type": "TIG"}, headers=admin
        )
    ).json()
    template = (
        await client.post(
            "/api/v1/templates",
            headers=admin,
            json={
                "name": "mx",
                "machine_id": machine["id"],
                "sheet": "Daten",
                "mapping": [{"column": "Arc time [s]", "field": "arc", "type": "number"}],
            },
        )
    ).json()
    await client.post(
        f"/api/v1/templates/{template['id']}/imports",
        headers=admin,
        files={"file": ("a.xlsx", files.xlsx(files.rows(4)))},
    )
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'workshop_http_requests_total{method="GET",route="/api/v1/machines",status="200"}' in text
    )
    assert (
        'workshop_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/machines"}'
        in text
    )
    assert 'workshop_imports_total{outcome="completed",source="upload"}' in text
    assert 'workshop_import_rows_total{outcome="imported"}' in text
    assert "workshop_db_pool_checked_out" in text
    assert "workshop_scheduler_runs" in text


async def test_metrics_can_be_turned_off(db: Database) -> None:
    app = create_app(make_settings(metrics_enabled=False), database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/metrics")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


PROD = {
    "environment": "production",
    "database_url": "postgresql://a@b/c",
    "firebase_project_id": "workshop-prod",
    "allowed_hosts": "api.workshop.example",
    "frontend_url": "https://workshop.example",
}
TOKEN = "metrics-token-0123456789abcdef"


async def scrape(app_settings: dict[str, object], db: Database, **headers: str) -> httpx.Response:
    app = create_app(make_settings(**app_settings), database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.workshop.example") as c:
        return await c.get("/metrics", headers=headers)


async def test_metrics_are_off_by_default_in_production(db: Database) -> None:
    assert_problem(await scrape(PROD, db), 404, "NOT_FOUND")
    assert (await scrape({**PROD, "metrics_enabled": True}, db)).status_code == 200


@pytest.mark.parametrize("environment", [PROD, {}])
async def test_metrics_token_is_required_when_set(
    db: Database, environment: dict[str, object]
) -> None:
    values = {**environment, "metrics_enabled": True, "metrics_token": TOKEN}
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789abcdef"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        response = await scrape(values, db, **headers)
        assert_problem(response, 401, "UNAUTHORIZED")
        assert response.headers["www-authenticate"] == "Bearer"
        assert TOKEN not in response.text
    allowed = await scrape(values, db, Authorization=f"Bearer {TOKEN}")
    assert allowed.status_code == 200
    assert "workshop_http_requests_total" in allowed.text
