"""`updated_since` / `updated_before` on the lists: one rule for all (app/core/pagination)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from app.main import create_app
from tests import factories as f
from tests.conftest import Headers, make_settings
from tests.core.test_errors import assert_problem

MACHINES = "/api/v1/machines"


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["items"]]


def test_every_list_takes_the_sync_parameters() -> None:
    spec = create_app(make_settings()).openapi()
    lists = []
    for path, methods in spec["paths"].items():
        get = methods.get("get")
        if not get:
            continue
        names = {p["name"] for p in get.get("parameters", [])}
        if {"skip", "limit"} <= names:
            lists.append(path)
            assert {"updated_since", "updated_before"} <= names, path
    assert len(lists) >= 20


async def test_updated_since_is_inclusive_and_orders_by_change(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    a, b, c = [await f.machine(client, admin) for _ in range(3)]
    since = a["updated_at"]
    # Changed last: read last, whatever sort_by and order say.
    body = {"location": "hall 2"}
    changed = await client.patch(f"{MACHINES}/{a['id']}", json=body, headers=admin)
    assert changed.status_code == 200
    params = {"updated_since": since, "sort_by": "name", "order": "desc"}
    expected = [b["id"], c["id"], a["id"]]
    assert ids(await client.get(MACHINES, params=params, headers=admin)) == expected
    after = {"updated_since": changed.json()["updated_at"]}
    assert ids(await client.get(MACHINES, params=after, headers=admin)) == [a["id"]]
    before = {"updated_before": b["updated_at"]}  # exclusive
    assert ids(await client.get(MACHINES, params=before, headers=admin)) == []
    window = {"updated_since": since, "updated_before": c["updated_at"]}
    assert ids(await client.get(MACHINES, params=window, headers=admin)) == [b["id"]]
    page = await client.get(MACHINES, params={"updated_since": since, "limit": 2}, headers=admin)
    assert (page.json()["total"], page.json()["has_more"]) == (3, True)


async def test_a_window_that_ends_before_it_starts_is_422(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    now = datetime.now(UTC)
    for since, before in ((now, now), (now, now - timedelta(seconds=1))):
        params = {"updated_since": since.isoformat(), "updated_before": before.isoformat()}
        response = await client.get(MACHINES, params=params, headers=admin)
        assert_problem(response, 422, "VALIDATION_ERROR")
    naive = {"updated_since": "2026-11-30T10:00:00"}
    assert_problem(await client.get(MACHINES, params=naive, headers=admin), 422, "VALIDATION_ERROR")


async def test_sub_lists_and_append_only_lists_take_it_too(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    order = await f.work_order(client, admin)
    welds_url = f"/api/v1/workorders/{order['id']}/welds"
    first = await f.post(client, admin, welds_url, f.weld_payload())
    second = await f.post(client, admin, welds_url, f.weld_payload())
    params = {"updated_since": second["updated_at"]}
    assert ids(await client.get(welds_url, params=params, headers=admin)) == [second["id"]]
    assert first["id"] not in ids(await client.get(welds_url, params=params, headers=admin))
    # Stock movements are only ever added: their creation time is their change time.
    wire = await f.item(client, admin)
    moves_url = f"/api/v1/items/{wire['id']}/movements"
    (move,) = (await client.get(moves_url, headers=admin)).json()["items"]
    made = datetime.fromisoformat(move["created_at"])
    later = {"updated_since": (made + timedelta(seconds=1)).isoformat()}
    assert ids(await client.get(moves_url, params=later, headers=admin)) == []
    since = {"updated_since": move["created_at"]}
    assert ids(await client.get(moves_url, params=since, headers=admin)) == [move["id"]]
    # The audit trail, on `at`, oldest first.
    events = await client.get(
        "/api/v1/audit", params={"updated_since": order["created_at"]}, headers=admin
    )
    assert events.status_code == 200, events.text
    times = [e["at"] for e in events.json()["items"]]
    assert times == sorted(times) and len(times) >= 4
    assert events.json()["next_cursor"] is None


async def test_exports_take_the_same_window(client: httpx.AsyncClient, admin: Headers) -> None:
    old = await f.work_order(client, admin)
    new = await f.work_order(client, admin)
    response = await client.get(
        "/api/v1/workorders/export", params={"updated_since": new["updated_at"]}, headers=admin
    )
    assert response.status_code == 200, response.text
    lines = response.text.strip().splitlines()
    assert len(lines) == 2 and new["order_id"] in lines[1] and old["order_id"] not in response.text
