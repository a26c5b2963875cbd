"""Idempotency-Key on POSTs (app/core/idempotency.py, ADR 0035): a retry replays the first
answer and the work is done once, on every database, across workers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.auth.roles import Role
from app.core.db import Database
from app.models import IdempotencyKey, Item, Machine, StockMovement
from tests import factories as f
from tests.attachments.conftest import PDF, attachment_rows
from tests.auth.workers import worker
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem

MACHINES = "/api/v1/machines"


def keyed(headers: Headers, key: str) -> Headers:
    return {**headers, "Idempotency-Key": key}


async def count(db: Database, model: Any) -> int:
    return int(
        await db.run(lambda s: s.scalar(select(func.count()).select_from(model)), write=False)
    )


async def test_a_retry_replays_the_first_answer_byte_for_byte(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    payload = f.machine_payload()
    first = await client.post(MACHINES, json=payload, headers=keyed(admin, "create-m1"))
    assert first.status_code == 201, first.text
    retry = await client.post(MACHINES, json=payload, headers=keyed(admin, "create-m1"))

    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["etag"] == first.headers["etag"]
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert retry.headers["x-request-id"] != first.headers["x-request-id"]  # its own request
    assert await count(db, Machine) == 1
    # without a key, the same body is a new request: the business key clashes
    assert_problem(await client.post(MACHINES, json=payload, headers=admin), 409, "CONFLICT")


async def test_a_4xx_is_replayed_too(client: httpx.AsyncClient, admin: Headers) -> None:
    bad = {**f.machine_payload(), "type": "plasma"}
    first = await client.post(MACHINES, json=bad, headers=keyed(admin, "bad-1"))
    assert_problem(first, 422, "VALIDATION_ERROR")
    retry = await client.post(MACHINES, json=bad, headers=keyed(admin, "bad-1"))
    assert (retry.status_code, retry.content) == (422, first.content)
    assert retry.headers["idempotent-replayed"] == "true"


async def test_stock_is_adjusted_once(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey, db: Database
) -> None:
    item = await f.item(client, admin, quantity=10, unit="pcs", category="spare_part")
    operator = await make_key(Role.operator)
    url = f"/api/v1/items/{item['id']}/adjust"
    body = {"delta": -3, "reason": "WO-7"}
    answers = [
        await client.post(url, json=body, headers=keyed(operator, "take-3")) for _ in range(3)
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    stored = (await client.get(f"/api/v1/items/{item['id']}", headers=admin)).json()
    assert float(stored["quantity"]) == 7
    assert await count(db, StockMovement) == 2  # the initial stock and one take


async def test_another_body_or_route_with_the_key_is_422(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    payload = f.machine_payload()
    assert (await client.post(MACHINES, json=payload, headers=keyed(admin, "k"))).is_success
    other = await client.post(MACHINES, json=f.machine_payload(), headers=keyed(admin, "k"))
    assert_problem(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert "different body" in other.json()["detail"]
    elsewhere = await client.post("/api/v1/items", json=f.item_payload(), headers=keyed(admin, "k"))
    assert_problem(elsewhere, 422, "IDEMPOTENCY_KEY_REUSED")
    assert "POST /api/v1/machines" in elsewhere.json()["detail"]
    assert await count(db, Machine) == 1 and await count(db, Item) == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\tin"])
async def test_a_malformed_key_is_422(client: httpx.AsyncClient, admin: Headers, key: str) -> None:
    headers = [(k.encode(), v.encode()) for k, v in admin.items()]
    headers.append((b"idempotency-key", key.encode("utf-8")))
    response = await client.post(MACHINES, json=f.machine_payload(), headers=headers)
    assert_problem(response, 422, "IDEMPOTENCY_KEY_INVALID")


async def test_the_longest_key_is_accepted(client: httpx.AsyncClient, admin: Headers) -> None:
    key = "".join(chr(32 + i % 95) for i in range(255)).strip() + "!"
    response = await client.post(MACHINES, json=f.machine_payload(), headers=keyed(admin, key))
    assert response.status_code == 201, response.text


async def test_two_callers_keys_do_not_collide(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey, db: Database
) -> None:
    other = await make_key(Role.admin)
    a = await client.post(MACHINES, json=f.machine_payload(), headers=keyed(admin, "same"))
    b = await client.post(MACHINES, json=f.machine_payload(), headers=keyed(other, "same"))
    assert (a.status_code, b.status_code) == (201, 201)
    assert "idempotent-replayed" not in b.headers
    assert await count(db, Machine) == 2


async def test_a_refused_caller_claims_nothing(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey, db: Database
) -> None:
    viewer = await make_key(Role.viewer)
    payload = f.machine_payload()
    assert_problem(
        await client.post(MACHINES, json=payload, headers=keyed(viewer, "v")), 403, "FORBIDDEN"
    )
    assert_problem(
        await client.post(MACHINES, json=payload, headers={"Idempotency-Key": "v"}),
        401,
        "UNAUTHORIZED",
    )
    assert await count(db, IdempotencyKey) == 0


async def test_twenty_concurrent_posts_with_one_key_create_one_row(
    db: Database, admin: Headers
) -> None:
    """Two workers (two app instances on one database), ten requests each, all at once."""
    payload = f.machine_payload()
    async with (
        worker(db, rate_limit_enabled=False) as (one, _),
        worker(db, rate_limit_enabled=False) as (two, _),
    ):
        responses = await asyncio.gather(
            *(
                (one if i % 2 else two).post(MACHINES, json=payload, headers=keyed(admin, "race"))
                for i in range(20)
            )
        )
        codes = [r.status_code for r in responses]
        assert set(codes) <= {201, 409}, [r.text for r in responses]
        created = [r for r in responses if r.status_code == 201]
        assert len({r.content for r in created}) == 1
        assert sum("idempotent-replayed" not in r.headers for r in created) == 1
        for refused in (r for r in responses if r.status_code == 409):
            assert_problem(refused, 409, "IDEMPOTENCY_KEY_IN_USE")
            assert refused.headers["retry-after"] == "1"
        assert await count(db, Machine) == 1
        # once the first is answered, every retry replays it
        late = await one.post(MACHINES, json=payload, headers=keyed(admin, "race"))
        assert (late.status_code, late.content) == (201, created[0].content)


async def test_after_the_keep_time_the_key_is_free(db: Database, admin: Headers) -> None:
    keep_s = 1.0
    async with worker(db, idempotency_keep_hours=keep_s / 3600) as (client, _):
        first = await client.post(MACHINES, json=f.machine_payload(), headers=keyed(admin, "k1"))
        assert first.status_code == 201
        await asyncio.sleep(keep_s + 0.2)
        again = await client.post(MACHINES, json=f.machine_payload(), headers=keyed(admin, "k1"))
        assert again.status_code == 201 and "idempotent-replayed" not in again.headers
        assert again.json()["id"] != first.json()["id"]
    assert await count(db, Machine) == 2


async def test_expired_keys_are_pruned(db: Database, admin: Headers) -> None:
    from app.core.idempotency import prune

    async with worker(db, idempotency_keep_hours=0.5 / 3600) as (client, _):
        for key in ("a", "b"):
            await client.post(MACHINES, json=f.machine_payload(), headers=keyed(admin, key))
    async with worker(db) as (client, _):
        await client.post(MACHINES, json=f.machine_payload(), headers=keyed(admin, "kept"))
    await asyncio.sleep(0.7)
    assert await prune(db) == 2
    keys = await db.run(lambda s: s.scalars(select(IdempotencyKey.key)), write=False)
    assert list(keys) == ["kept"]


async def test_a_5xx_frees_the_key_and_an_upload_replays(
    db: Database, admin: Headers, tmp_path: Any
) -> None:
    down = {
        "storage_backend": "s3",
        "s3_bucket": "nowhere",
        "s3_endpoint_url": "http://127.0.0.1:9",
        "rate_limit_enabled": False,
    }
    async with (
        worker(db, **down) as (broken, _),
        worker(db, upload_dir=tmp_path, rate_limit_enabled=False) as (working, _),
    ):
        machine = f"{MACHINES}/{(await f.machine(working, admin))['id']}/attachments"
        upload = {"file": ("cert.pdf", PDF, "application/pdf")}
        failed = await broken.post(machine, files=upload, headers=keyed(admin, "up-1"))
        assert_problem(failed, 503, "STORAGE_UNAVAILABLE")
        assert await count(db, IdempotencyKey) == 0  # freed: a retry does the work

        first = await working.post(machine, files=upload, headers=keyed(admin, "up-1"))
        assert first.status_code == 201, first.text
        # httpx picks a new multipart boundary for every request: still the same request
        retry = await working.post(machine, files=upload, headers=keyed(admin, "up-1"))
        assert (retry.status_code, retry.content) == (201, first.content)
        assert retry.headers["location"] == first.headers["location"]
        assert retry.headers["idempotent-replayed"] == "true"
        assert await attachment_rows(db) == 1

        other = {"file": ("cert.pdf", PDF + b"%", "application/pdf")}
        assert_problem(
            await working.post(machine, files=other, headers=keyed(admin, "up-1")),
            422,
            "IDEMPOTENCY_KEY_REUSED",
        )


async def test_a_new_api_keys_secret_is_not_kept(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    body = {"name": "press 4", "role": "operator"}
    first = await client.post("/api/v1/api-keys", json=body, headers=keyed(admin, "key-1"))
    assert first.status_code == 201
    secret = first.json()["key"]
    kept = await db.run(lambda s: s.scalar(select(IdempotencyKey.body)), write=False)
    assert kept is None
    retry = await client.post("/api/v1/api-keys", json=body, headers=keyed(admin, "key-1"))
    assert_problem(retry, 409, "IDEMPOTENT_ANSWER_NOT_KEPT")
    assert retry.headers["location"] == first.headers["location"]
    assert secret not in retry.text
    listed = (await client.get("/api/v1/api-keys", headers=admin)).json()
    assert sum(k["name"] == "press 4" for k in listed) == 1


async def test_a_claim_whose_process_died_is_taken_over_or_reported(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    """A row left as a dead process leaves it (its lease over): without a commit the retry
    does the work; with one (the answer lost between the two commits) it is never redone."""
    from sqlalchemy import update

    from app.models.base import utcnow

    payload = f.machine_payload()
    first = await client.post(MACHINES, json=payload, headers=keyed(admin, "dead"))
    assert first.status_code == 201

    async def died(committed: bool) -> None:
        statement = update(IdempotencyKey).values(
            status_code=None, headers=None, body=None, committed=committed, locked_until=utcnow()
        )
        await db.run(lambda s: s.execute(statement))

    await died(committed=True)
    lost = await client.post(MACHINES, json=payload, headers=keyed(admin, "dead"))
    assert_problem(lost, 409, "IDEMPOTENCY_OUTCOME_UNKNOWN")
    assert await count(db, Machine) == 1

    await died(committed=False)
    await client.delete(first.headers["location"], headers=admin)  # as if it never landed
    again = await client.post(MACHINES, json=payload, headers=keyed(admin, "dead"))
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert await count(db, Machine) == 1
