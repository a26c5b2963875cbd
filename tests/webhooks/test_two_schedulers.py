"""Two scheduler processes, one database, ten standing facts: each told once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from app.core import clock
from app.core.db import Database
from app.main import create_app
from app.models import DeliveryStatus, WebhookDelivery
from tests import factories as f
from tests.conftest import Headers, make_settings
from tests.webhooks.receiver import receiver

pytestmark = pytest.mark.backends("mariadb", "postgresql")
ROOT = Path(__file__).parents[2]
SCHEDULER = "import sys; sys.argv = ['workshop', 'scheduler']; from app.cli import main; main()"


async def test_two_schedulers_deliver_each_event_once(
    admin: Headers, db: Database, database_url: URL, tmp_path: Path
) -> None:
    app = create_app(make_settings(webhook_allow_private=True), database=db)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    today = clock.today()
    for n in range(5):
        await f.work_order(client, admin, due_date=str(today - timedelta(days=n + 1)))
        await f.item(client, admin, quantity=n, reorder_level=10)
    env = {
        **os.environ,
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "IMPORT_SOURCE_ROOTS": str(tmp_path),
        "SCHEDULER_SYNC_SECONDS": "0.5",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_SCAN_SECONDS": "0.3",
        "WEBHOOK_DELIVER_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CI", None)
    with receiver(204) as hook:
        await f.post(
            client,
            admin,
            "/api/v1/webhooks",
            {
                "name": "race",
                "url": hook.url,
                "events": ["work_order.overdue", "stock.reorder"],
            },
        )
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", SCHEDULER],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            for _ in range(2)
        ]
        try:
            deadline = time.monotonic() + 90
            while len(hook.received) < 10:
                assert all(p.poll() is None for p in procs), (
                    procs[0].stderr.read() if procs[0].stderr else ""
                )
                assert time.monotonic() < deadline, f"only {len(hook.received)} of 10 delivered"
                await asyncio.sleep(0.3)
            await asyncio.sleep(3)  # both keep scanning and sending: nothing more arrives
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    await client.aclose()
    keys = [json.loads(r.body)["data"]["id"] for r in hook.received]
    assert len(hook.received) == 10, keys
    assert len({r.headers["Webhook-Id"] for r in hook.received}) == 10
    count = select(func.count()).select_from(WebhookDelivery)
    delivered = count.where(WebhookDelivery.status == DeliveryStatus.delivered)
    assert await db.run(lambda s: s.scalar(count), write=False) == 10
    assert await db.run(lambda s: s.scalar(delivered), write=False) == 10
