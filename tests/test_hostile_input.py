"""Hostile and clumsy input: every case answers 4xx in the one error format and leaves the data
as it was, on every backend; text round-trips unchanged (4-byte emoji included)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Headers
from tests.core.test_errors import assert_problem

MACHINE = {"code": "H1", "name": "Hostile", "type": "TIG"}
JSON = {"content-type": "application/json"}


def raw(body: bytes) -> dict[str, object]:
    return {"content": body, "headers": JSON}


CASES = [
    ("nul byte", {"json": {**MACHINE, "name": "a\x00b"}}, 422),
    ("lone surrogate", raw(b'{"code": "H1", "name": "\\ud800", "type": "TIG"}'), 422),
    ("nul in metadata", {"json": {**MACHINE, "metadata": {"k": "v\x00"}}}, 422),
    (
        "deeply nested",
        raw(
            b'{"code": "H1", "name": "x", "type": "TIG", "metadata": '
            + b'{"a": ' * 3000
            + b"1"
            + b"}" * 3000
            + b"}"
        ),
        (400, 422),
    ),
    ("huge body", {"json": {**MACHINE, "metadata": {"blob": "x" * 2_000_000}}}, 413),
    ("number overflow", {"json": {**MACHINE, "metadata": {"n": 2**80}}}, 422),
    ("not json", raw(b"{'code': 'H1'"), 422),
    ("array body", {"json": [MACHINE]}, 422),
    ("string for enum", {"json": {**MACHINE, "type": 5}}, 422),
    # maxLength counts the text as sent, spaces that would be stripped included (the spec's rule)
    ("too long before stripping", {"json": {**MACHINE, "code": "\u00a0" + "x" * 50}}, 422),
]


@pytest.mark.parametrize(("case", "request_kwargs", "status"), CASES, ids=[c[0] for c in CASES])
async def test_hostile_bodies_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
    admin: Headers,
    case: str,
    request_kwargs: dict[str, object],
    status: int,
) -> None:
    headers = {**admin, **request_kwargs.pop("headers", {})}  # type: ignore[dict-item]
    response = await client.post("/api/v1/machines", headers=headers, **request_kwargs)  # type: ignore[arg-type]
    assert response.status_code in (status if isinstance(status, tuple) else (status,)), (
        response.text
    )
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/machines", headers=admin)).json()["total"] == 0


async def test_out_of_range_numbers_dates_and_ids(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    big = 2**70
    for method in ("GET", "DELETE"):
        response = await client.request(method, f"/api/v1/machines/{big}", headers=admin)
        # MariaDB finds no such row (404); PostgreSQL and SQLite refuse the number (422).
        assert response.status_code in (404, 422), response.text
        assert response.json()["error_code"] in ("NOT_FOUND", "VALUE_OUT_OF_RANGE")
    template = {"name": "t", "machine_id": big, "mapping": [{"column": "a", "field": "a"}]}
    assert_problem(
        await client.post("/api/v1/templates", json=template, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    for due in ("0001-01-01", "3500-01-01", "2026-02-30"):
        response = await client.post(
            "/api/v1/workorders",
            json={"order_id": "W", "client": "c", "due_date": due},
            headers=admin,
        )
        assert_problem(response, 422, "VALIDATION_ERROR")
    item = {"item_id": "I", "item_name": "i", "category": "gas", "quantity": "1e30"}
    assert_problem(
        await client.post("/api/v1/items", json=item, headers=admin), 422, "VALIDATION_ERROR"
    )
    assert_problem(
        await client.get("/api/v1/workorders", params={"machine_id": big}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    assert (await client.get("/api/v1/workorders", headers=admin)).json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"skip": -1},
        {"limit": 10**6},
        {"skip": 10**12},
        {"limit": "all"},
        {"skip": "1e3"},
        {"order": "desc; drop table machines"},
    ],
)
async def test_pagination_abuse(
    client: httpx.AsyncClient, admin: Headers, params: dict[str, object]
) -> None:
    assert_problem(
        await client.get("/api/v1/machines", params=params, headers=admin), 422, "VALIDATION_ERROR"
    )


async def test_text_round_trips_unchanged(client: httpx.AsyncClient, admin: Headers) -> None:
    name = "Varilec 🔥🧑‍🏭 čšž ÄÖß 溶接 ‮RTL"
    created = await client.post(
        "/api/v1/machines",
        json={**MACHINE, "name": name, "metadata": {"note": "💥 ok"}},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    fetched = (await client.get(created.headers["location"], headers=admin)).json()
    assert fetched["name"] == name and fetched["metadata"] == {"note": "💥 ok"}
    listed = (await client.get("/api/v1/machines", params={"q": "🧑‍🏭"}, headers=admin)).json()
    assert [m["name"] for m in listed["items"]] == [name]
