from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Column, ForeignKey, String, Table, func, select
from sqlalchemy.engine import URL
from typer.testing import CliRunner

from app import seed
from app.cli import cli
from app.core.config import get_settings
from app.core.db import Database
from app.models import Attachment, Base, Inspection, Item, Machine, WorkOrder, WorkOrderStatus
from app.models.base import BigId
from app.storage.local import LocalStorage
from tests.conftest import Headers


async def test_seed_makes_a_realistic_workshop(
    db: Database, app: FastAPI, client: httpx.AsyncClient, admin: Headers
) -> None:
    storage = app.state.storage  # the API's, so it serves what the seed stored
    assert await db.run(seed.is_empty)
    made = await db.run(lambda s: seed.seed(s, storage))
    assert made["machines"] >= 5 and made["work_orders"] >= 10
    hooks = (await client.get("/api/v1/webhooks", headers=admin)).json()["items"]
    assert [(h["active"], h["url"]) for h in hooks] == [
        (False, "https://hooks.example.com/workshop")
    ]
    assert not await db.run(seed.is_empty)

    statuses = set(await db.run(lambda s: s.scalars(select(WorkOrder.status).distinct())))
    assert statuses == set(WorkOrderStatus)
    low = await db.run(
        lambda s: s.scalar(select(func.count()).where(Item.quantity <= Item.reorder_level))
    )
    assert low and low >= 3
    defects = await db.run(lambda s: s.scalars(select(Inspection.defects)))
    assert any(d for d in defects), "some inspections carry ISO 6520 defects"

    # The API reads what the seed wrote, with the rules applied (welder names, derived dates).
    orders = (
        await client.get("/api/v1/workorders", params={"overdue": True}, headers=admin)
    ).json()
    assert orders["total"] >= 2
    assert any(o["assigned_welder_name"] for o in orders["items"])
    expiring = await client.get(
        "/api/v1/employees", params={"qualification_expires_before": "2099-01-01"}, headers=admin
    )
    assert expiring.json()["total"] >= 5

    # Weld runs, judged as an import judges them: in range, over the current, a tack.
    runs = (await client.get("/api/v1/workshop-entries", headers=admin)).json()["items"]
    verdicts = [r["verdict"] for r in runs]
    assert made["runs"] == len(runs) == 7
    assert verdicts.count(None) == 1 and "pass" in verdicts
    over = [r for r in runs if r["data"].get("current_a") == 275]
    assert [r["verdict"] for r in over] == ["fail"]
    assert "current 275 A > 260 A" in over[0]["reasons"][0]["text"]
    board = await client.get(
        "/api/v1/dashboard/conformance", params={"group_by": "welder"}, headers=admin
    )
    assert board.json()["total"]["runs"] == 6  # from the day totals the seed keeps (ADR 0040)
    points = (await client.get("/api/v1/dashboard/production", headers=admin)).json()["points"]
    assert sum(p["entries"] for p in points) == 7  # and those of ADR 0019

    # Calibration and validation histories, one of each overdue (ADR 0031).
    board = (await client.get("/api/v1/dashboard/equipment", headers=admin)).json()
    assert [c["code"] for c in board["calibration_overdue"]] == ["CLM-01"]
    assert [c["code"] for c in board["calibration_due_soon"]] == ["OVN-01", "GAU-01"]
    assert [v["code"] for v in board["validation_overdue"]] == ["MIG-02"]
    assert made["calibrations"] == 8 and made["validations"] == 5

    # A calibration certificate on the weld gauge set, a PDF through the storage.
    gauge = (await client.get("/api/v1/equipment", params={"q": "GAU-01"}, headers=admin)).json()
    url = f"/api/v1/equipment/{gauge['items'][0]['id']}/attachments"
    (certificate,) = (await client.get(url, headers=admin)).json()["items"]
    assert certificate["filename"] == "GAU-01 calibration certificate.pdf"
    download = await client.get(certificate["download_path"], headers=admin)
    assert download.content.startswith(b"%PDF-1.4") and b"GAU-01" in download.content
    keys = list(await db.run(lambda s: s.scalars(select(Attachment.storage_key))))
    assert made["attachments"] == len(keys) == 3  # + a work order's drawing, a lot's 3.1
    assert all([await storage.exists(key) for key in keys])

    await db.run(lambda s: seed.wipe(s, storage))
    assert await db.run(seed.is_empty)
    assert not any([await storage.exists(key) for key in keys])


async def test_seed_force_wipes_a_table_it_does_not_know(
    db: Database, database_url: URL, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A table added after the seed was written, pointing at a seeded one: --force must empty
    # it before the machines it refers to.
    notes = Table(
        "seed_test_machine_notes",
        Base.metadata,
        Column("id", BigId, primary_key=True),
        Column("machine_id", BigId, ForeignKey("machines.id"), nullable=False),
        Column("note", String(100), nullable=False),
    )
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(notes.create)
        await db.run(lambda s: seed.seed(s, LocalStorage(tmp_path)))
        machine = await db.run(lambda s: s.scalar(select(Machine.id).limit(1)))
        async with db.engine.begin() as conn:
            await conn.execute(notes.insert().values(machine_id=machine, note="feeder rattles"))

        # The command itself, on this test's database (in a thread: it runs its own loop).
        monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
        monkeypatch.setenv("UPLOAD_DIR", str(tmp_path))
        get_settings.cache_clear()
        result = await anyio.to_thread.run_sync(
            lambda: CliRunner().invoke(cli, ["seed", "--force"])
        )
        assert result.exit_code == 0, result.output + repr(result.exception)
        assert "seeded: 6 machines" in result.stdout

        async with db.engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(notes)) == 0
        count = await db.run(lambda s: s.scalar(select(func.count()).select_from(Machine)))
        assert count == 6
    finally:
        get_settings.cache_clear()
        async with db.engine.begin() as conn:
            await conn.run_sync(notes.drop, checkfirst=True)
        Base.metadata.remove(notes)
