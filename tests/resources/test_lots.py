"""Consumable lots and the recall queries, on every database."""

from __future__ import annotations

from typing import Any

import httpx

from app.auth.roles import Role
from tests import factories as f
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem


async def lot(
    client: httpx.AsyncClient, admin: Headers, item_id: int, number: str, quantity: float
) -> dict[str, Any]:
    return await f.post(
        client,
        admin,
        f"/api/v1/items/{item_id}/lots",
        {
            "lot_number": number,
            "supplier": "Elektrode Jesenice",
            "quantity": quantity,
            "received_on": "2026-11-02",
            "expires_on": "2028-11-02",
        },
    )


async def take(
    client: httpx.AsyncClient, headers: Headers, item_id: int, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/items/{item_id}/adjust", json={"reason": "consumed", **body}, headers=headers
    )


async def stock(client: httpx.AsyncClient, admin: Headers, item_id: int) -> float:
    return float((await client.get(f"/api/v1/items/{item_id}", headers=admin)).json()["quantity"])


async def test_recall_in_both_directions(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    wire = await f.item(client, admin, quantity=0)
    a, b, c = [await lot(client, admin, wire["id"], n, 10) for n in ("H-1", "H-2", "H-3")]
    assert await stock(client, admin, wire["id"]) == 30  # received lots are stock
    one, two = await f.work_order(client, admin), await f.work_order(client, admin)
    w1 = await f.post(client, admin, f"/api/v1/workorders/{one['id']}/welds", f.weld_payload())
    w2 = await f.post(client, admin, f"/api/v1/workorders/{two['id']}/welds", f.weld_payload())
    operator = await make_key(Role.operator)
    for body in (
        {"delta": -2, "lot_id": a["id"], "weld_id": w1["id"]},
        {"delta": -1.5, "lot_id": a["id"], "weld_id": w1["id"]},
        {"delta": -3, "lot_id": a["id"], "weld_id": w2["id"]},
        {"delta": -4, "lot_id": b["id"], "work_order_id": one["id"]},
        {"delta": -1, "lot_id": c["id"], "weld_id": w2["id"], "work_order_id": two["id"]},
    ):
        response = await take(client, operator, wire["id"], **body)
        assert response.status_code == 200, response.text
    assert await stock(client, admin, wire["id"]) == 30 - 11.5

    usage = (await client.get(f"/api/v1/lots/{a['id']}/usage", headers=admin)).json()
    assert usage["lot"]["quantity"] == 3.5
    assert [(u["order_id"], u["quantity"]) for u in usage["work_orders"]] == [
        (one["order_id"], 3.5),
        (two["order_id"], 3),
    ]
    assert [(u["weld_reference"], u["quantity"]) for u in usage["welds"]] == [
        (w1["reference"], 3.5),
        (w2["reference"], 3),
    ]
    used = (await client.get(f"/api/v1/workorders/{one['id']}/lots", headers=admin)).json()
    assert [(u["lot_number"], u["quantity"], u["welds"]) for u in used] == [
        ("H-1", 3.5, [w1["reference"]]),
        ("H-2", 4, []),
    ]
    used = (await client.get(f"/api/v1/workorders/{two['id']}/lots", headers=admin)).json()
    assert [(u["lot_number"], u["quantity"], u["welds"]) for u in used] == [
        ("H-1", 3, [w2["reference"]]),
        ("H-3", 1, [w2["reference"]]),
    ]

    # Below zero on the lot: 409, nothing changed (neither the item nor the lot nor the moves).
    moves = (await client.get(f"/api/v1/items/{wire['id']}/movements", headers=admin)).json()
    over = await take(client, operator, wire["id"], delta=-4, lot_id=a["id"])
    problem = assert_problem(over, 409, "CONFLICT")
    assert "H-1" in str(problem["detail"])
    assert await stock(client, admin, wire["id"]) == 18.5
    assert (await client.get(f"/api/v1/lots/{a['id']}", headers=admin)).json()["quantity"] == 3.5
    after = (await client.get(f"/api/v1/items/{wire['id']}/movements", headers=admin)).json()
    assert after["total"] == moves["total"]
    assert after["items"][0]["lot_id"] == c["id"] and after["items"][0]["weld_id"] == w2["id"]

    # A lot with moves is part of the record; the work order and weld its moves name too.
    assert_problem(await client.delete(f"/api/v1/lots/{a['id']}", headers=admin), 409, "CONFLICT")
    gone = await client.delete(f"/api/v1/workorders/{one['id']}", headers=admin)
    assert_problem(gone, 409, "CONFLICT")


async def test_lot_errors_and_permissions(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    wire, gas = await f.item(client, admin, quantity=5), await f.item(client, admin, quantity=5)
    h1 = await lot(client, admin, wire["id"], "H-1", 2)
    same = await client.post(
        f"/api/v1/items/{wire['id']}/lots", json={"lot_number": "H-1"}, headers=admin
    )
    assert_problem(same, 409, "CONFLICT")
    assert_problem(
        await client.post("/api/v1/items/987654/lots", json={"lot_number": "X"}, headers=admin),
        404,
        "NOT_FOUND",
    )
    assert_problem(
        await client.post(
            f"/api/v1/items/{wire['id']}/lots",
            json={"lot_number": "", "quantity": -1},
            headers=admin,
        ),
        422,
        "VALIDATION_ERROR",
    )
    operator = await make_key(Role.operator)
    assert_problem(
        await client.post(
            f"/api/v1/items/{wire['id']}/lots", json={"lot_number": "H-9"}, headers=operator
        ),
        403,
        "FORBIDDEN",
    )
    wrong_item = assert_problem(
        await take(client, admin, gas["id"], delta=-1, lot_id=h1["id"]), 422, "VALIDATION_ERROR"
    )
    assert wrong_item["errors"][0]["field"] == "lot_id"  # type: ignore[index]
    order = await f.work_order(client, admin)
    other = await f.work_order(client, admin)
    weld = await f.post(client, admin, f"/api/v1/workorders/{order['id']}/welds", f.weld_payload())
    mismatch = assert_problem(
        await take(
            client, admin, wire["id"], delta=-1, weld_id=weld["id"], work_order_id=other["id"]
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert mismatch["errors"][0]["field"] == "work_order_id"  # type: ignore[index]
    for field, value in (("lot_id", 987654), ("weld_id", 987654), ("work_order_id", 987654)):
        missing = assert_problem(
            await take(client, admin, wire["id"], delta=-1, **{field: value}),
            422,
            "VALIDATION_ERROR",
        )
        assert missing["errors"][0]["field"] == field  # type: ignore[index]
    assert await stock(client, admin, wire["id"]) == 7  # nothing moved

    listed = await client.get(
        f"/api/v1/items/{wire['id']}/lots", params={"q": "h-"}, headers=operator
    )
    assert [x["lot_number"] for x in listed.json()["items"]] == ["H-1"]
    patched = await client.patch(
        f"/api/v1/lots/{h1['id']}", json={"supplier": "Messer", "quantity": 99}, headers=admin
    )
    assert_problem(patched, 422, "VALIDATION_ERROR")  # the quantity moves by stock moves only
    patched = await client.patch(
        f"/api/v1/lots/{h1['id']}",
        json={"supplier": "Messer", "notes": None},
        headers={**admin, "If-Match": f'"{h1["version"]}"'},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["supplier"] == "Messer" and patched.json()["quantity"] == 2
    stale = await client.patch(
        f"/api/v1/lots/{h1['id']}",
        json={"supplier": "X"},
        headers={**admin, "If-Match": f'"{h1["version"]}"'},
    )
    assert_problem(stale, 412, "PRECONDITION_FAILED")
    unused = await lot(client, admin, wire["id"], "H-2", 0)
    assert (await client.delete(f"/api/v1/lots/{unused['id']}", headers=admin)).status_code == 204
    for url in (
        "/api/v1/lots/987654",
        "/api/v1/lots/987654/usage",
        "/api/v1/workorders/987654/lots",
    ):
        assert_problem(await client.get(url, headers=admin), 404, "NOT_FOUND")
    viewer = await make_key(Role.viewer)
    assert_problem(await take(client, viewer, wire["id"], delta=-1), 403, "FORBIDDEN")
    assert_problem(
        await client.delete(f"/api/v1/lots/{h1['id']}", headers=operator), 403, "FORBIDDEN"
    )
