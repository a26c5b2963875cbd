from __future__ import annotations

import httpx

from app.core.db import Database
from app.main import create_app
from tests.conftest import Headers, make_settings
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
