from __future__ import annotations

import asyncio

import httpx

from app.auth.roles import Role
from tests import factories as f
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem

URL = "/api/v1/items"


async def test_twenty_concurrent_takes_from_ten_end_at_zero(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    item = await f.item(client, admin, quantity=10, unit="pcs", category="spare_part")
    operator = await make_key(Role.operator)
    adjust = f"{URL}/{item['id']}/adjust"
    responses = await asyncio.gather(
        *(
            client.post(adjust, json={"delta": -1, "reason": f"take {i}"}, headers=operator)
            for i in range(20)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 10 + [409] * 10, [
        r.text for r in responses if r.status_code not in (200, 409)
    ]
    for refused in (r for r in responses if r.status_code == 409):
        assert_problem(refused, 409, "CONFLICT")
    stored = (await client.get(f"{URL}/{item['id']}", headers=admin)).json()
    assert stored["quantity"] == 0
    history = (
        await client.get(f"{URL}/{item['id']}/movements", params={"limit": 100}, headers=admin)
    ).json()
    takes = [m for m in history["items"] if m["reason"].startswith("take")]
    assert len(takes) == 10
    assert sorted(m["quantity_after"] for m in takes) == list(range(10))
    assert history["total"] == 11  # + the initial stock


async def test_adjust_adds_takes_and_records(client: httpx.AsyncClient, admin: Headers) -> None:
    item = await f.item(client, admin, quantity="12.5", unit="kg")
    url = f"{URL}/{item['id']}"
    added = await client.post(
        f"{url}/adjust", json={"delta": "15.25", "reason": "delivery 4711"}, headers=admin
    )
    assert added.status_code == 200
    assert added.json()["quantity"] == 27.75
    assert added.json()["version"] == 2
    assert added.headers["etag"] == '"2"'
    taken = await client.post(
        f"{url}/adjust", json={"delta": -7.75, "reason": "WO-2026-0001"}, headers=admin
    )
    assert taken.json()["quantity"] == 20
    refused = await client.post(
        f"{url}/adjust", json={"delta": -20.001, "reason": "too much"}, headers=admin
    )
    problem = assert_problem(refused, 409, "CONFLICT")
    assert problem["quantity"] == 20
    movements = (await client.get(f"{url}/movements", headers=admin)).json()["items"]
    assert [(m["delta"], m["quantity_after"], m["reason"]) for m in movements] == [
        (-7.75, 20, "WO-2026-0001"),
        (15.25, 27.75, "delivery 4711"),
        (12.5, 12.5, "initial stock"),
    ]
    assert all(m["created_by"].startswith("api_key:") for m in movements)


async def test_adjust_errors(client: httpx.AsyncClient, admin: Headers, make_key: MakeKey) -> None:
    item = await f.item(client, admin)
    url = f"{URL}/{item['id']}/adjust"
    for body in (
        {"delta": 0, "reason": "x"},
        {"delta": 1},
        {"delta": 1, "reason": ""},
        {"delta": "1.0001", "reason": "x"},
        {"delta": 1, "reason": "x", "user": "me"},
    ):
        assert_problem(await client.post(url, json=body, headers=admin), 422, "VALIDATION_ERROR")
    missing = await client.post(
        f"{URL}/987654/adjust", json={"delta": 1, "reason": "x"}, headers=admin
    )
    assert_problem(missing, 404, "NOT_FOUND")
    viewer = await make_key(Role.viewer)
    assert_problem(
        await client.post(url, json={"delta": 1, "reason": "x"}, headers=viewer), 403, "FORBIDDEN"
    )
    assert_problem(await client.post(url, json={"delta": 1, "reason": "x"}), 401, "UNAUTHORIZED")
    assert_problem(await client.get(f"{URL}/987654/movements", headers=admin), 404, "NOT_FOUND")
    assert (await client.get(f"{URL}/{item['id']}", headers=admin)).json()["quantity"] == 120


async def test_editing_quantity_records_a_correction(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    item = await f.item(client, admin, quantity=50)
    url = f"{URL}/{item['id']}"
    patched = await client.patch(url, json={"quantity": 47}, headers=admin)
    assert patched.json()["quantity"] == 47
    latest = (await client.get(f"{url}/movements", headers=admin)).json()["items"][0]
    assert (latest["delta"], latest["quantity_after"], latest["reason"]) == (
        -3,
        47,
        "stock count correction",
    )
    assert_problem(
        await client.patch(url, json={"quantity": -1}, headers=admin), 422, "VALIDATION_ERROR"
    )


async def test_stale_edit_after_an_adjustment_is_412(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    item = await f.item(client, admin, quantity=10)
    url = f"{URL}/{item['id']}"
    await client.post(f"{url}/adjust", json={"delta": -2, "reason": "used"}, headers=admin)
    stale = await client.patch(url, json={"quantity": 10}, headers={**admin, "If-Match": '"1"'})
    assert_problem(stale, 412, "PRECONDITION_FAILED")
    assert (await client.get(url, headers=admin)).json()["quantity"] == 8


async def test_low_stock_and_other_filters(client: httpx.AsyncClient, admin: Headers) -> None:
    low = await f.item(
        client, admin, quantity=5, reorder_level=10, category="gas", supplier="Messer"
    )
    at = await f.item(client, admin, quantity=10, reorder_level=10, category="gas")
    plenty = await f.item(
        client, admin, quantity=100, reorder_level=10, category="ppe", item_name="Welding gloves"
    )

    async def ids(**params: object) -> set[int]:
        response = await client.get(URL, params=params, headers=admin)
        assert response.status_code == 200, response.text
        return {row["id"] for row in response.json()["items"]}

    assert await ids(low_stock=True) == {low["id"], at["id"]}
    assert await ids(low_stock=False) == {plenty["id"]}
    assert await ids(category="gas", supplier="mess") == {low["id"]}
    assert await ids(q="GLOVES") == {plenty["id"]}
    body = (await client.get(f"{URL}/{low['id']}", headers=admin)).json()
    assert body["low_stock"] is True
    top = (
        await client.get(URL, params={"sort_by": "quantity", "order": "desc"}, headers=admin)
    ).json()
    assert top["items"][0]["id"] == plenty["id"]


async def test_deleting_an_item_takes_its_history(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    item = await f.item(client, admin)
    await client.post(f"{URL}/{item['id']}/adjust", json={"delta": 1, "reason": "x"}, headers=admin)
    assert (await client.delete(f"{URL}/{item['id']}", headers=admin)).status_code == 204
    assert_problem(
        await client.get(f"{URL}/{item['id']}/movements", headers=admin), 404, "NOT_FOUND"
    )
