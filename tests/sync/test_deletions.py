"""The deletions feed: every way a listed row goes is in it (a route's delete, the rows the
database deletes with it, an import's undo, the attachments of a deleted owner), in the
deleting transaction only; its order, filter, horizon (410) and pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import httpx
from sqlalchemy import func, select, update

from app.auth.roles import Role
from app.core.db import Database
from app.core.deletions import RESOURCE_NAMES
from app.deletions.schemas import Resource
from app.models import Deletion
from app.scheduler import runner
from tests import factories as f
from tests.attachments.conftest import attach
from tests.conftest import Headers, MakeKey, make_settings
from tests.core.test_errors import assert_problem
from tests.imports import files

URL = "/api/v1/deletions"


async def feed(client: httpx.AsyncClient, headers: Headers, **params: Any) -> list[tuple[str, int]]:
    response = await client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [(d["resource"], d["id"]) for d in response.json()["items"]]


def test_the_feed_names_every_listed_resource() -> None:
    assert set(get_args(Resource)) == RESOURCE_NAMES


async def test_a_deleted_row_is_in_the_feed_with_its_time(
    client: httpx.AsyncClient, admin: Headers, viewer: Headers
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    kept, gone = await f.machine(client, admin), await f.machine(client, admin)
    assert (await client.delete(f"/api/v1/machines/{gone['id']}", headers=admin)).status_code == 204
    page = (await client.get(URL, params={"since": before.isoformat()}, headers=viewer)).json()
    assert page["total"] == 1
    (item,) = page["items"]
    assert (item["resource"], item["id"]) == ("machines", gone["id"])
    assert before <= datetime.fromisoformat(item["deleted_at"]) <= datetime.now(UTC)
    assert kept["id"] not in [i for _, i in await feed(client, viewer)]
    later = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    assert await feed(client, viewer, since=later) == []


async def test_the_rows_deleted_with_a_row_are_in_the_feed(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    order = await f.work_order(client, admin)
    welds = [
        await f.post(client, admin, f"/api/v1/workorders/{order['id']}/welds", f.weld_payload())
        for _ in range(2)
    ]
    worker = await f.employee(client, admin)
    qualification = await f.post(
        client,
        admin,
        f"/api/v1/employees/{worker['id']}/qualifications",
        f.qualification_payload(),
    )
    await client.delete(f"/api/v1/workorders/{order['id']}", headers=admin)
    await client.delete(f"/api/v1/employees/{worker['id']}", headers=admin)
    assert sorted(await feed(client, admin)) == sorted(
        [
            ("workorders", order["id"]),
            *(("welds", w["id"]) for w in welds),
            ("employees", worker["id"]),
            ("qualifications", qualification["id"]),
        ]
    )


async def test_an_items_lots_and_stock_movements_go_with_it(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    wire = await f.item(client, admin)
    lot = await f.post(
        client,
        admin,
        f"/api/v1/items/{wire['id']}/lots",
        {"lot_number": "L-1", "quantity": 5, "received_on": "2026-11-02"},
    )
    moves = (await client.get(f"/api/v1/items/{wire['id']}/movements", headers=admin)).json()
    assert moves["total"] >= 1
    assert (await client.delete(f"/api/v1/items/{wire['id']}", headers=admin)).status_code == 204
    gone = set(await feed(client, admin, limit=1000))
    assert {("items", wire["id"]), ("lots", lot["id"])} <= gone
    assert {("stock-movements", m["id"]) for m in moves["items"]} <= gone


async def test_the_attachments_of_a_deleted_owner_are_in_the_feed(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    machine = await f.machine(client, admin)
    url = f"/api/v1/machines/{machine['id']}"
    attached = (await attach(client, admin, url)).json()
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert set(await feed(client, admin)) == {
        ("machines", machine["id"]),
        ("attachments", attached["id"]),
    }


async def test_an_import_undo_lists_its_entries(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    machine = await f.machine(client, admin)
    template = await f.template(
        client,
        admin,
        machine["id"],
        sheet="Daten",
        mapping=files.MAPPING,
        timestamp_field="ts",
        timezone="Europe/Ljubljana",
    )
    done = await client.post(
        f"/api/v1/templates/{template['id']}/imports",
        files={"file": ("a.xlsx", files.xlsx(files.rows(5)), "application/octet-stream")},
        headers=admin,
    )
    assert done.status_code == 201, done.text
    record = done.json()
    entries = await client.get(
        "/api/v1/workshop-entries", params={"import_id": record["id"]}, headers=admin
    )
    ids = {e["id"] for e in entries.json()["items"]}
    assert len(ids) == 5
    undone = await client.delete(f"/api/v1/imports/{record['id']}", headers=admin)
    assert undone.status_code == 204
    gone = await feed(client, admin, resource="workshop-entries")
    assert sorted(gone) == sorted(("workshop-entries", i) for i in ids)
    assert ("imports", record["id"]) in await feed(client, admin, resource="imports")


async def test_a_refused_delete_leaves_nothing_in_the_feed(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    machine = await f.machine(client, admin)
    url = f"/api/v1/machines/{machine['id']}"
    stale = await client.delete(url, headers={**admin, "If-Match": '"7"'})
    assert_problem(stale, 412, "PRECONDITION_FAILED")
    await f.template(client, admin, machine["id"])  # refers to the machine: 409
    assert_problem(await client.delete(url, headers=admin), 409, "CONFLICT")
    assert await feed(client, admin) == []


async def test_order_paging_and_the_resource_filter(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    machines = [await f.machine(client, admin) for _ in range(3)]
    order = await f.work_order(client, admin)
    for m in machines:
        await client.delete(f"/api/v1/machines/{m['id']}", headers=admin)
    await client.delete(f"/api/v1/workorders/{order['id']}", headers=admin)
    everything = await feed(client, admin)
    assert everything == [*(("machines", m["id"]) for m in machines), ("workorders", order["id"])]
    first = (await client.get(URL, params={"limit": 2}, headers=admin)).json()
    assert (first["total"], first["has_more"], len(first["items"])) == (4, True, 2)
    assert await feed(client, admin, resource="workorders") == [("workorders", order["id"])]
    newest = (await client.get(URL, params={"order": "desc"}, headers=admin)).json()["items"]
    assert (newest[0]["resource"], newest[0]["id"]) == ("workorders", order["id"])


async def test_a_since_before_the_horizon_is_410(
    client: httpx.AsyncClient, admin: Headers, settings: Any
) -> None:
    old = datetime.now(UTC) - timedelta(days=settings.deletions_keep_days, seconds=5)
    body = assert_problem(
        await client.get(URL, params={"since": old.isoformat()}, headers=admin),
        410,
        "SYNC_EXPIRED",
    )
    assert datetime.fromisoformat(str(body["horizon"])) > old
    inside = old + timedelta(seconds=60)
    assert (await client.get(URL, params={"since": inside.isoformat()}, headers=admin)).is_success
    same = {"since": inside.isoformat(), "updated_since": inside.isoformat()}
    assert_problem(await client.get(URL, params=same, headers=admin), 422, "VALIDATION_ERROR")


async def test_deleted_users_and_webhooks_are_shown_to_admins_only(
    client: httpx.AsyncClient, admin: Headers, viewer: Headers, db: Database
) -> None:
    await db.run(lambda s: s.execute(Deletion.__table__.insert(), [row("users", 5)]))
    await db.run(lambda s: s.execute(Deletion.__table__.insert(), [row("machines", 6)]))
    await db.run(lambda s: s.execute(Deletion.__table__.insert(), [row("webhooks", 7)]))
    assert await feed(client, admin) == [("users", 5), ("machines", 6), ("webhooks", 7)]
    assert await feed(client, viewer) == [("machines", 6)]
    assert await feed(client, viewer, resource="users") == []
    assert await feed(client, viewer, resource="webhooks") == []


async def test_who_may_read_the_feed(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    assert_problem(await client.get(URL), 401, "UNAUTHORIZED")
    for role in Role:
        assert (await client.get(URL, headers=await make_key(role))).status_code == 200


async def test_bad_queries_are_422(client: httpx.AsyncClient, admin: Headers) -> None:
    for params in (
        {"resource": "nothing"},
        {"since": "2026-11-30T10:00:00"},  # no offset
        {"sort_by": "id"},
        {"updated_since": "2026-11-30T10:00:00Z", "updated_before": "2026-11-30T09:00:00Z"},
    ):
        response = await client.get(URL, params=params, headers=admin)
        assert_problem(response, 422, "VALIDATION_ERROR")


def row(resource: str, id_: int, days_ago: float = 0) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    return {"resource": resource, "resource_id": id_, "deleted_at": at}


async def test_housekeeping_prunes_what_is_past_the_horizon(db: Database) -> None:
    rows = [row("machines", i, days_ago=40) for i in range(3)] + [row("machines", 9, 29)]
    await db.run(lambda s: s.execute(Deletion.__table__.insert(), rows))
    settings = make_settings(deletions_keep_days=30)
    assert await runner.prune_deletions(db, settings) == 3
    assert await runner.prune_deletions(db, settings) == 0
    left = await db.run(lambda s: s.scalars(select(Deletion.resource_id)), write=False)
    assert list(left) == [9]
    # Kept, until the window is shorter.
    await db.run(
        lambda s: s.execute(update(Deletion).values(deleted_at=datetime.now(UTC) - timedelta(3)))
    )
    assert await runner.prune_deletions(db, make_settings(deletions_keep_days=2)) == 1
    count = await db.run(lambda s: s.scalar(select(func.count()).select_from(Deletion)))
    assert count == 0
