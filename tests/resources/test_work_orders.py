from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx

from app.auth.roles import Role
from tests import factories as f
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem

URL = "/api/v1/workorders"


async def test_lost_update_race_one_wins_the_other_gets_412(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    order = await f.work_order(client, admin, notes="start")
    url = f"{URL}/{order['id']}"
    alice, bob = await make_key(Role.operator), await make_key(Role.manager)
    read_a, read_b = await client.get(url, headers=alice), await client.get(url, headers=bob)
    assert read_a.headers["etag"] == read_b.headers["etag"] == '"1"'

    a, b = await asyncio.gather(
        client.patch(
            url, json={"notes": "alice"}, headers={**alice, "If-Match": read_a.headers["etag"]}
        ),
        client.patch(
            url,
            json={"notes": "bob", "priority": "urgent"},
            headers={**bob, "If-Match": read_b.headers["etag"]},
        ),
    )
    assert sorted([a.status_code, b.status_code]) == [200, 412], (a.text, b.text)
    winner = a if a.status_code == 200 else b
    loser = b if winner is a else a
    assert_problem(loser, 412, "PRECONDITION_FAILED")
    stored = (await client.get(url, headers=admin)).json()
    assert stored == winner.json()
    assert stored["version"] == 2
    assert stored["notes"] == ("alice" if winner is a else "bob")
    assert stored["priority"] == ("normal" if winner is a else "urgent")


async def test_operator_changes_progress_only(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    order = await f.work_order(client, admin)
    url = f"{URL}/{order['id']}"
    operator = await make_key(Role.operator)
    viewer = await make_key(Role.viewer)
    ok = await client.patch(
        url, json={"status": "in_progress", "notes": "root pass done"}, headers=operator
    )
    assert ok.status_code == 200
    problem = assert_problem(
        await client.patch(url, json={"notes": "x", "due_date": "2027-01-01"}, headers=operator),
        403,
        "FORBIDDEN",
    )
    assert "due_date" in str(problem["detail"])
    assert_problem(await client.patch(url, json={"notes": "x"}, headers=viewer), 403, "FORBIDDEN")
    assert (await client.get(url, headers=admin)).json()["notes"] == "root pass done"


async def test_status_moves_stamp_times_and_refuse_bad_transitions(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    order = await f.work_order(client, admin)
    url = f"{URL}/{order['id']}"
    assert order["started_at"] is None and order["completed_at"] is None
    started = (await client.patch(url, json={"status": "in_progress"}, headers=admin)).json()
    assert started["started_at"] is not None and started["completed_at"] is None
    done = (await client.patch(url, json={"status": "completed"}, headers=admin)).json()
    assert done["started_at"] == started["started_at"]
    assert done["completed_at"] >= done["started_at"]
    problem = assert_problem(
        await client.patch(url, json={"status": "cancelled"}, headers=admin), 409, "CONFLICT"
    )
    assert problem["allowed"] == ["in_progress"]
    reopened = await client.patch(url, json={"status": "in_progress"}, headers=admin)
    assert reopened.status_code == 200

    backwards = await client.patch(
        url,
        json={"started_at": "2026-11-02T10:00:00Z", "completed_at": "2026-11-01T10:00:00Z"},
        headers=admin,
    )
    assert_problem(backwards, 422, "VALIDATION_ERROR")


async def test_welder_name_in_responses_follows_the_assignment(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    ana = await f.employee(client, admin, first_name="Ana", last_name="Novak")
    marko = await f.employee(client, admin, first_name="Marko", last_name="Horvat")
    order = await f.work_order(client, admin, assigned_welder_id=ana["id"])
    assert order["assigned_welder_name"] == "Ana Novak"
    url = f"{URL}/{order['id']}"
    moved = await client.patch(url, json={"assigned_welder_id": marko["id"]}, headers=admin)
    assert moved.json()["assigned_welder_name"] == "Marko Horvat"
    listed = (
        await client.get(URL, params={"assigned_welder_id": marko["id"]}, headers=admin)
    ).json()
    assert [row["assigned_welder_name"] for row in listed["items"]] == ["Marko Horvat"]
    unassigned = await client.patch(url, json={"assigned_welder_id": None}, headers=admin)
    assert unassigned.json()["assigned_welder_name"] is None


async def test_filters(client: httpx.AsyncClient, admin: Headers) -> None:
    today = date.today()
    machine = await f.machine(client, admin)
    late = await f.work_order(
        client,
        admin,
        client="Acme Cranes",
        due_date=str(today - timedelta(days=3)),
        priority="urgent",
        machine_id=machine["id"],
    )
    await f.work_order(
        client,
        admin,
        client="Acme Cranes",
        due_date=str(today - timedelta(days=3)),
        status="completed",
    )
    soon = await f.work_order(
        client, admin, client="Brodogradilište Split", due_date=str(today + timedelta(days=5))
    )
    undated = await f.work_order(client, admin, client="Steel & Co", description="Stair rails")

    async def ids(**params: object) -> list[int]:
        response = await client.get(URL, params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()["items"]]

    assert await ids(overdue=True) == [late["id"]]
    assert late["id"] not in await ids(overdue=False)
    assert undated["id"] in await ids(overdue=False)
    assert await ids(client="acme", priority="urgent") == [late["id"]]
    assert await ids(machine_id=machine["id"]) == [late["id"]]
    assert await ids(due_from=str(today), due_to=str(today + timedelta(days=10))) == [soon["id"]]
    assert await ids(q="STAIR") == [undated["id"]]
    assert await ids(client="100%") == []
    assert (await ids(sort_by="due_date", order="desc", status="open"))[0] == soon["id"]
    bad = await client.get(
        URL, params={"due_from": "2026-12-01", "due_to": "2026-11-01"}, headers=admin
    )
    assert_problem(bad, 422, "VALIDATION_ERROR")


async def test_employee_on_a_work_order_cannot_be_deleted(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    welder = await f.employee(client, admin)
    await f.work_order(client, admin, assigned_welder_id=welder["id"])
    problem = assert_problem(
        await client.delete(f"/api/v1/employees/{welder['id']}", headers=admin), 409, "CONFLICT"
    )
    assert problem["dependents"] == {"work_orders.assigned_welder_id": 1}
    assert "work_orders" in str(problem["detail"])
