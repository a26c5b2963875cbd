"""The lists written straight from their rows (`JSONPage`, ADR 0043) answer the very bytes
pydantic writes for their page models, on every database: each page is rebuilt here the model
way, from the ORM objects, and compared byte for byte."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, timedelta
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.audit.schemas import Actor, AuditEventRead, AuditPage
from app.core.db import Database
from app.core.pagination import Page
from app.entries.schemas import EntryPage, EntryRead
from app.models import AuditEvent, WorkOrder, WorkshopEntry
from app.work_orders.schemas import WorkOrderRead
from tests import factories as f
from tests.conformance.test_import import ONE_PASS, run, send, shop
from tests.conftest import Headers
from tests.qualifications.test_api import TODAY


def page(model: type[BaseModel], items: list[BaseModel], **more: Any) -> bytes:
    """The page as pydantic writes it, of items validated already (their models as they are)."""
    fields = {"total": None, "skip": 0, "limit": 1000, "has_more": False, **more}
    return model.model_validate({"items": items, **fields}).model_dump_json().encode()


async def test_work_orders(client: httpx.AsyncClient, admin: Headers, db: Database) -> None:
    person = await f.employee(client, admin, first_name="Zoë", last_name="Ørsted")
    await f.work_order(client, admin)  # the optional fields empty
    await f.work_order(
        client,
        admin,
        assigned_welder_id=person["id"],
        description='a "quoted" line\nand a second, ✓',
        due_date="2026-12-24",
        priority="urgent",
        notes="",
    )
    started = await f.work_order(client, admin, assigned_welder_id=person["id"])
    moved = await client.patch(
        f"/api/v1/workorders/{started['id']}",
        json={"status": "in_progress", "started_at": "2026-11-30T08:15:00.000250+01:00"},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text

    answer = await client.get(
        "/api/v1/workorders", params={"limit": 1000, "include_total": "false"}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    async with db.session(write=False) as session:
        stmt = select(WorkOrder).options(selectinload(WorkOrder.assigned_welder))
        orders = (await session.scalars(stmt.order_by(WorkOrder.id))).all()
        items = [WorkOrderRead.model_validate(o) for o in orders]
    # the whole list on one page: counted without a count query
    assert answer.content == page(Page[WorkOrderRead], items, total=len(items))
    names = {o["assigned_welder_name"] for o in answer.json()["items"]}
    assert names == {None, "Zoë Ørsted"}
    # Counted without the welder's join: as many, filtered or not
    for params, total in (({}, 3), ({"assigned_welder_id": person["id"]}, 2)):
        first = await client.get("/api/v1/workorders", params={"limit": 1, **params}, headers=admin)
        assert (first.json()["total"], first.json()["has_more"]) == (total, True)


async def test_workshop_entries_with_runs_that_pass_fail_and_are_not_tied(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    s = await shop(client, admin, [{**ONE_PASS, "current_min": 180, "current_max": 260}])
    thick = await client.post(  # a weld the welder is not qualified for
        f"/api/v1/workorders/{s['order']['id']}/welds",
        json=f.weld_payload(wps_id=s["wps"]["id"], thickness=20, position="PC"),
        headers=admin,
    )
    assert thick.status_code == 201, thick.text
    when = dt.datetime.combine(TODAY - timedelta(days=1), dt.time(9, 0, 0, 125))
    data = [
        run(s, when, 220),
        run(s, when + timedelta(minutes=1), 265),  # fails: 265 A > 260 A, integral values
        run(s, when + timedelta(minutes=2), 220.5, weld=thick.json()["reference"]),
        run(s, when + timedelta(minutes=3), 220, badge="0457"),  # not tied
        run(s, when + timedelta(minutes=4), 220, arc=1.5, ok=False),  # a tack
    ]
    imported = await send(client, admin, s["template"]["id"], data, on_error="skip")
    assert imported.status_code == 201, imported.text

    answer = await client.get(
        "/api/v1/workshop-entries",
        params={"limit": 1000, "include_total": "false"},
        headers=admin,
    )
    assert answer.status_code == 200, answer.text
    async with db.session(write=False) as session:
        rows = (await session.scalars(select(WorkshopEntry).order_by(WorkshopEntry.id))).all()
        items = [EntryRead.model_validate(row) for row in rows]
    assert answer.content == page(EntryPage, items, next_cursor=None)
    listed = answer.json()["items"]
    assert [e["verdict"] for e in listed] == ["pass", "fail", "fail", "pass", None]  # 0457 too
    assert [e["qualified"] for e in listed] == [True, True, False, None, None]
    one = await client.get(f"/api/v1/workshop-entries/{listed[2]['id']}", headers=admin)
    assert one.json() == listed[2]  # one entry says as much as the list


async def test_audit_trail(client: httpx.AsyncClient, admin: Headers, db: Database) -> None:
    machine = await f.machine(client, admin)
    changed = await client.patch(
        f"/api/v1/machines/{machine['id']}",
        json={"status": "maintenance", "name": "Zoë's TPS\u2028500i"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert (await client.delete(f"/api/v1/machines/{machine['id']}", headers=admin)).is_success

    answer = await client.get(
        "/api/v1/audit", params={"limit": 1000, "include_total": "false"}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    async with db.session(write=False) as session:
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()))).all()
        items = [
            AuditEventRead(
                id=e.id,
                at=e.at,
                actor=Actor(kind=e.actor_kind, id=e.actor_id, name=e.actor_name),
                action=e.action,
                resource=e.resource,
                resource_id=e.resource_id,
                changes=e.changes,
                request_id=e.request_id,
            )
            for e in events
        ]
    assert answer.content == page(AuditPage, items, next_cursor=None)
    assert [e["action"] for e in answer.json()["items"]][:3] == ["delete", "update", "create"]
    assert all(dt.datetime.fromisoformat(e["at"]).tzinfo == UTC for e in answer.json()["items"])
