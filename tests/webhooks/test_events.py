"""Events emitted where they happen: an import that fails in the background, an import (and a
re-check) whose weld runs fail their WPS."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app.core.db import Database
from app.main import create_app
from app.models import WebhookDelivery
from tests import factories as f
from tests.conformance.test_import import ONE_PASS, run, send, shop
from tests.conftest import Headers, wait_for
from tests.imports import files
from tests.qualifications.test_api import TODAY
from tests.webhooks.test_webhooks import hook_settings


async def events(db: Database) -> list[tuple[str, str, dict[str, Any]]]:
    rows = await db.run(
        lambda s: s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)), write=False
    )
    return [(d.event, d.event_key, d.payload["data"]) for d in rows]


async def test_a_background_import_that_fails_emits_import_failed(
    db: Database, admin: Headers, tmp_path: Path
) -> None:
    settings = hook_settings(upload_dir=tmp_path / "u", import_sync_max_bytes=1)
    app = create_app(settings, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        hook = {"name": "ops", "url": "https://hooks.example.com/", "events": ["import.failed"]}
        await f.post(c, admin, "/api/v1/webhooks", hook)
        machine = await f.machine(c, admin)
        template = await f.template(
            c, admin, machine["id"], sheet="Daten", mapping=files.MAPPING, timestamp_field="ts"
        )
        data = files.rows(5)
        data[2][1] = "not a number"
        response = await c.post(
            f"/api/v1/templates/{template['id']}/imports",
            files={"file": ("bad.xlsx", files.xlsx(data), "application/octet-stream")},
            headers=admin,
        )
        assert response.status_code == 202, response.text
        import_id = response.json()["id"]
        await app.state.importer.wait_idle()
        found = await wait_for(lambda: events(db))
    ((event, key, payload),) = found
    assert (event, key) == ("import.failed", f"import.failed:{import_id}")
    assert payload["import_id"] == import_id and payload["source"] == "upload"
    assert "1 of 5 rows are invalid" in payload["error"]


async def test_runs_that_fail_emit_conformance_failed_on_import_and_recheck(
    db: Database, admin: Headers
) -> None:
    app = create_app(hook_settings(), database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        hook = {"name": "qa", "url": "https://hooks.example.com/", "events": ["conformance.failed"]}
        await f.post(c, admin, "/api/v1/webhooks", hook)
        s = await shop(c, admin, [{**ONE_PASS, "current_min": 180, "current_max": 260}])
        when = dt.datetime.combine(TODAY - timedelta(days=1), dt.time(9))
        good = await send(c, admin, s["template"]["id"], [run(s, when, 250)])
        assert good.status_code == 201 and await events(db) == []  # all pass: no event
        record = (
            await send(c, admin, s["template"]["id"], [run(s, when, 265), run(s, when, 251)])
        ).json()
        assert record["conformance"]["fail"] == 1
        rechecked = await c.post(f"/api/v1/imports/{record['id']}/recheck", headers=admin)
        assert rechecked.status_code == 200, rechecked.text
    found = await events(db)
    assert [(e, k.split(":")[1]) for e, k, _ in found] == [
        ("conformance.failed", str(record["id"])),
        ("conformance.failed", str(record["id"])),
    ]
    first, again = found[0][2], found[1][2]
    assert first["conformance"]["fail"] == 1 and first["url"] == f"/api/v1/imports/{record['id']}"
    assert again["conformance"]["checked_at"]
