"""The audit trail: one event per change, in the change's transaction, never for a write that
did not land; who may read it, its filters and its keyset pages (ADR 0029)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from app.audit.schemas import AuditQuery
from app.audit.service import page_statement
from app.auth.roles import Role
from app.core.audit import Actor, acting
from app.core.db import Database
from app.models import AuditEvent, Machine, MachineType, User
from tests import factories as f
from tests.conftest import Headers, MakeKey
from tests.imports.files import MAPPING, rows, xlsx

AUDIT = "/api/v1/audit"


async def events(db: Database, **where: Any) -> list[AuditEvent]:
    async def work(session: Any) -> list[AuditEvent]:
        stmt = select(AuditEvent).filter_by(**where).order_by(AuditEvent.id)
        return list((await session.scalars(stmt)).all())

    return await db.run(work, write=False)


async def count(db: Database) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(AuditEvent)))

    return await db.run(work, write=False)


def request_id() -> str:
    return uuid.uuid4().hex


async def test_create_update_delete_write_one_event_each(
    client: httpx.AsyncClient, db: Database, make_key: MakeKey
) -> None:
    manager = await make_key(Role.manager)
    rid = request_id()
    created = await client.post(
        "/api/v1/machines",
        json=f.machine_payload(code="MIG-A1", location="Hall 1"),
        headers={**manager, "X-Request-ID": rid},
    )
    assert created.status_code == 201, created.text
    machine_id = str(created.json()["id"])
    (event,) = await events(db, resource="machines", resource_id=machine_id)
    assert (event.action, event.actor_kind) == ("create", "api_key")
    assert event.actor_name == "test manager"
    assert event.request_id == rid
    assert event.changes["code"] == [None, "MIG-A1"]
    assert event.changes["type"] == [None, "MIG/MAG"]
    assert event.changes["metadata"] == [None, {}]
    assert not {"id", "version", "created_at", "updated_at"} & set(event.changes)

    rid = request_id()
    patched = await client.patch(
        f"/api/v1/machines/{machine_id}",
        json={"status": "maintenance", "location": None},
        headers={**manager, "X-Request-ID": rid},
    )
    assert patched.status_code == 200, patched.text
    update = (await events(db, resource="machines", resource_id=machine_id))[1:]
    assert len(update) == 1
    assert update[0].action == "update"
    assert update[0].changes == {"status": ["active", "maintenance"], "location": ["Hall 1", None]}
    assert update[0].request_id == rid

    same = await client.patch(
        f"/api/v1/machines/{machine_id}", json={"status": "maintenance"}, headers=manager
    )
    assert same.status_code == 200
    assert len(await events(db, resource="machines", resource_id=machine_id)) == 2  # no change

    deleted = await client.delete(f"/api/v1/machines/{machine_id}", headers=manager)
    assert deleted.status_code == 204
    last = (await events(db, resource="machines", resource_id=machine_id))[-1]
    assert last.action == "delete"
    assert last.changes["code"] == ["MIG-A1", None]
    assert last.changes["status"] == ["maintenance", None]


async def test_other_resources_and_their_values(
    client: httpx.AsyncClient, db: Database, admin: Headers
) -> None:
    order = await f.work_order(client, admin, due_date="2026-12-01")
    response = await client.patch(
        f"/api/v1/workorders/{order['id']}",
        json={"status": "in_progress", "priority": "urgent"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    _, update = await events(db, resource="workorders", resource_id=str(order["id"]))
    assert update.changes["status"] == ["open", "in_progress"]
    assert update.changes["priority"] == ["normal", "urgent"]
    assert update.changes["started_at"][0] is None  # stamped by the service, ISO 8601
    assert update.changes["started_at"][1].startswith("20")

    item = await f.item(client, admin, quantity=10)
    adjusted = await client.post(
        f"/api/v1/items/{item['id']}/adjust", json={"delta": -2.5, "reason": "job"}, headers=admin
    )
    assert adjusted.status_code == 200, adjusted.text
    _, taken = await events(db, resource="items", resource_id=str(item["id"]))
    assert (taken.action, taken.changes) == ("update", {"quantity": [10.0, 7.5]})

    employee = await f.employee(client, admin)
    qualification = await client.post(
        f"/api/v1/employees/{employee['id']}/qualifications",
        json=f.qualification_payload(),
        headers=admin,
    )
    assert qualification.status_code == 201, qualification.text
    (made,) = await events(db, resource="qualifications")
    assert made.action == "create"
    assert made.changes["employee_id"] == [None, employee["id"]]


async def test_a_wps_edit_is_one_event_with_its_passes(
    client: httpx.AsyncClient, db: Database, admin: Headers
) -> None:
    wps = await f.post(client, admin, "/api/v1/wps", f.wps_payload())
    (made,) = await events(db, resource="wps")
    assert made.changes["passes.2.current_max"] == [None, 240]
    kept = {*f.PASS, "seq", "layer"}
    passes = [{k: v for k, v in p.items() if k in kept} for p in wps["passes"]]
    passes[0]["current_max"] = 160
    response = await client.patch(
        f"/api/v1/wps/{wps['id']}", json={"passes": passes, "notes": "n"}, headers=admin
    )
    assert response.status_code == 200, response.text
    _, edit = await events(db, resource="wps")
    assert edit.action == "update"
    assert edit.changes == {"passes.1.current_max": [150, 160], "notes": [None, "n"]}


async def test_a_failed_write_leaves_no_event(
    client: httpx.AsyncClient, db: Database, admin: Headers
) -> None:
    await f.machine(client, admin, code="MIG-DUP")
    before = await count(db)
    clash = await client.post(
        "/api/v1/machines", json=f.machine_payload(code="MIG-DUP"), headers=admin
    )
    assert clash.status_code == 409
    invalid = await client.post(
        "/api/v1/templates", json=f.template_payload(machine_id=987654), headers=admin
    )
    assert invalid.status_code == 422
    item = await f.item(client, admin, quantity=1)
    below = await client.post(
        f"/api/v1/items/{item['id']}/adjust", json={"delta": -5, "reason": "x"}, headers=admin
    )
    assert below.status_code == 409
    assert await count(db) == before + 1  # the item's creation only


async def test_a_rolled_back_transaction_leaves_no_event(db: Database) -> None:
    class Undone(Exception):
        pass

    async def work(session: Any) -> None:
        session.add(Machine(code="MIG-RB", name="R", type=MachineType.robot, metadata_={}))
        await session.flush()
        raise Undone

    with pytest.raises(Undone):
        await db.run(work)
    assert await count(db) == 0

    async def kept(session: Any) -> None:
        session.add(Machine(code="MIG-OK", name="R", type=MachineType.robot, metadata_={}))

    await db.run(kept)  # no request, no flush of its own: the commit's flush is recorded
    (event,) = await events(db)
    assert (event.actor_kind, event.actor_id, event.actor_name) == ("system", None, "system")


async def test_who_may_read_the_trail(
    client: httpx.AsyncClient, make_key: MakeKey, admin: Headers
) -> None:
    for role, status in (
        (Role.viewer, 403),
        (Role.operator, 403),
        (Role.manager, 200),
        (Role.admin, 200),
    ):
        response = await client.get(AUDIT, headers=await make_key(role))
        assert response.status_code == status, (role, response.text)
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        response = await client.request(method, f"{AUDIT}/1", headers=admin)
        assert response.status_code in (404, 405)
        response = await client.request(method, AUDIT, headers=admin)
        assert response.status_code == 405


async def test_api_keys_and_roles_are_audited_without_secrets(
    client: httpx.AsyncClient, db: Database, admin: Headers
) -> None:
    made = await client.post(
        "/api/v1/api-keys", json={"name": "cell 4", "role": "operator"}, headers=admin
    )
    assert made.status_code == 201, made.text
    key = made.json()
    (event,) = await events(db, resource="api-keys", resource_id=str(key["id"]))
    assert event.changes["name"] == [None, "cell 4"]
    assert event.changes["role"] == [None, "operator"]
    stored = str(event.changes)
    assert "key_hash" not in stored and key["key"] not in stored
    assert key["key"][11:20] not in stored
    revoked = await client.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)
    assert revoked.status_code in (200, 204), revoked.text
    _, revoke = await events(db, resource="api-keys", resource_id=str(key["id"]))
    assert list(revoke.changes) == ["revoked_at"]

    async def add_user(session: Any) -> int:
        user = User(firebase_uid="u-audit", email="ana@workshop.example", active=True)
        session.add(user)
        await session.flush()
        return user.id

    with acting(Actor("system", None, "sign-in")):
        user_id = await db.run(add_user)
    response = await client.patch(
        f"/api/v1/users/{user_id}", json={"role": "manager"}, headers=admin
    )
    assert response.status_code == 200, response.text
    made_user, granted = await events(db, resource="users", resource_id=str(user_id))
    assert made_user.actor_name == "sign-in"
    assert granted.actor_kind == "api_key"
    assert granted.changes == {
        "role": ["pending", "manager"],
        "role_source": ["none", "admin"],
        "assigned_role": [None, "manager"],
    }


async def test_undoing_an_import_writes_a_delete_event(
    client: httpx.AsyncClient, db: Database, admin: Headers
) -> None:
    machine = await f.machine(client, admin)
    template = await f.template(
        client, admin, machine["id"], sheet="Daten", mapping=MAPPING, timezone="Europe/Ljubljana"
    )
    imported = await client.post(
        f"/api/v1/templates/{template['id']}/imports",
        files={"file": ("export.xlsx", xlsx(rows(3)), "application/octet-stream")},
        headers=admin,
    )
    assert imported.status_code == 201, imported.text
    import_id = imported.json()["id"]
    assert await events(db, resource="imports") == []  # progress of an import is not audited
    undone = await client.delete(f"/api/v1/imports/{import_id}", headers=admin)
    assert undone.status_code == 204, undone.text
    (event,) = await events(db, resource="imports")
    assert (event.action, event.resource_id) == ("delete", str(import_id))
    assert event.changes["original_filename"] == ["export.xlsx", None]
    assert event.changes["rows_imported"] == [3, None]


async def test_filters_and_keyset_pages(
    client: httpx.AsyncClient, db: Database, make_key: MakeKey, admin: Headers
) -> None:
    manager = await make_key(Role.manager)
    machines = [await f.machine(client, manager) for _ in range(5)]
    order = await f.work_order(client, admin)
    for machine in machines[:2]:
        await client.patch(
            f"/api/v1/machines/{machine['id']}", json={"status": "retired"}, headers=admin
        )

    async def page(**params: Any) -> dict[str, Any]:
        response = await client.get(AUDIT, params=params, headers=manager)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    everything = await page()
    assert everything["total"] == 10  # the two keys' creation (system) among them
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first

    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 3, "include_total": "false"}
        if cursor is not None:
            params["after_id"] = cursor
        body = await page(**params)
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        assert body["has_more"] == (cursor is not None)
        if cursor is None:
            break
    assert seen == ids
    ascending = await page(order="asc", after_id=ids[-1], limit=2)
    assert [e["id"] for e in ascending["items"]] == sorted(ids)[1:3]

    assert (await page(resource="machines"))["total"] == 7
    one = await page(resource="machines", resource_id=str(machines[0]["id"]))
    assert [e["action"] for e in one["items"]] == ["update", "create"]
    assert one["items"][0]["actor"]["kind"] == "api_key"
    assert (await page(action="update"))["total"] == 2
    assert (await page(actor="test manager"))["total"] == 5
    admin_events = await page(actor=f"api_key:{one['items'][0]['actor']['id']}")
    assert admin_events["total"] == 3
    assert (await page(resource="workorders"))["items"][0]["resource_id"] == str(order["id"])
    assert (await page(**{"from": "2999-01-01T00:00:00Z"}))["total"] == 0
    assert (await page(to="2999-01-01T00:00:00Z"))["total"] == 10
    assert (await page(actor="system:"))["total"] == 2

    bad = await client.get(
        AUDIT,
        params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        headers=manager,
    )
    assert bad.status_code == 422
    assert (await client.get(AUDIT, params={"action": "read"}, headers=manager)).status_code == 422


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"resource": "machines"},
        {"resource": "machines", "resource_id": "7"},
        {"actor": "k"},
        {"actor": "api_key:3"},
    ],
    ids=["all", "resource", "resource_id", "actor", "actor-id"],
)
async def test_keyset_pages_read_an_index_without_sorting(
    db: Database, filters: dict[str, Any]
) -> None:
    """The cost of a page does not grow with the trail: no full scan, no sort (the keyset of the
    entries list). Timings are in bench/lists.py."""
    query = AuditQuery.model_validate({**filters, "after_id": 500_000, "include_total": False})
    stmt = page_statement(query)
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    async with db.engine.connect() as conn:
        plan = [row[-1] for row in await conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    assert not any("TEMP B-TREE" in step for step in plan), plan
    assert all("SEARCH" in step for step in plan), plan


async def test_bulk_updates_say_what_they_changed(
    client: httpx.AsyncClient, db: Database, admin: Headers
) -> None:
    """Approving a WPS links the work orders that name it and supersedes the revision before:
    Core UPDATEs, recorded beside the statement."""
    wps = await f.post(client, admin, "/api/v1/wps", f.wps_payload())
    order = await f.work_order(client, admin, wps_number=wps["number"])
    approved = await client.post(f"/api/v1/wps/{wps['id']}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    _, approval = await events(db, resource="wps", resource_id=str(wps["id"]))
    assert approval.changes["status"] == ["draft", "approved"]
    _, linked = await events(db, resource="workorders", resource_id=str(order["id"]))
    assert linked.changes == {"wps_id": [None, wps["id"]]}

    revision = await client.post(f"/api/v1/wps/{wps['id']}/revise", headers=admin)
    assert revision.status_code == 201, revision.text
    approved = await client.post(f"/api/v1/wps/{revision.json()['id']}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    superseded = (await events(db, resource="wps", resource_id=str(wps["id"])))[-1]
    assert superseded.changes == {"status": ["approved", "superseded"]}
