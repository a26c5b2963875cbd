"""Rate limits: per credential, per category, per IP for failed sign-ins; memory and Redis."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.api_keys.service import hash_key
from app.auth.roles import Role
from app.core.db import Database
from app.main import create_app
from app.models import ApiKey
from tests.conftest import Headers, MakeKey, make_settings
from tests.core.test_errors import assert_problem

REDIS = "redis://127.0.0.1:6379/0"


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not redis_up():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("Redis is not reachable on 127.0.0.1:6379")
        pytest.skip("Redis is not reachable")
    return REDIS


@pytest.fixture
async def make_client(db: Database) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def make(**overrides: Any) -> httpx.AsyncClient:
        app = create_app(make_settings(**overrides), database=db)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def test_writes_have_their_own_budget(
    make_client: Any, admin: Headers, make_key: MakeKey
) -> None:
    client = make_client(rate_limit_write="3/minute", rate_limit_read="5/minute")
    url = "/api/v1/machines"
    seen = []
    for n in range(3):
        response = await client.post(
            url, json={"code": f"RL-{n}", "name": "x", "type": "TIG"}, headers=admin
        )
        assert response.status_code == 201
        seen.append(response.headers["x-ratelimit-remaining"])
        assert response.headers["x-ratelimit-limit"] == "3"
        assert int(response.headers["x-ratelimit-reset"]) > 0
    assert seen == ["2", "1", "0"]
    refused = await client.post(
        url, json={"code": "RL-X", "name": "x", "type": "TIG"}, headers=admin
    )
    problem = assert_problem(refused, 429, "RATE_LIMITED")
    assert 0 < int(refused.headers["retry-after"]) <= 61
    assert "write" in str(problem["detail"])
    # Reads have their own budget; another credential has its own too.
    assert (await client.get(url, headers=admin)).headers["x-ratelimit-limit"] == "5"
    other = await make_key()
    ok = await client.post(url, json={"code": "RL-Y", "name": "x", "type": "TIG"}, headers=other)
    assert ok.status_code == 201
    # Nothing was written by the refused request.
    listed = (await client.get(url, headers=admin)).json()
    assert "RL-X" not in [m["code"] for m in listed["items"]]


async def test_failed_sign_ins_spend_the_ip_budget(make_client: Any, admin: Headers) -> None:
    # The test client's peer is 127.0.0.1; trust only another proxy here.
    client = make_client(rate_limit_auth="2/minute", trusted_proxies="10.0.0.1")
    for _ in range(2):
        assert_problem(
            await client.get("/api/v1/machines", headers={"X-API-Key": "wk_guess"}),
            401,
            "UNAUTHORIZED",
        )
    assert_problem(
        await client.get("/api/v1/machines", headers={"X-API-Key": "wk_guess"}), 429, "RATE_LIMITED"
    )
    assert_problem(await client.get("/api/v1/machines"), 429, "RATE_LIMITED")
    # A forwarded address is believed only from a trusted proxy.
    spoofed = await client.get("/api/v1/machines", headers={"X-Forwarded-For": "203.0.113.9"})
    assert_problem(spoofed, 429, "RATE_LIMITED")
    # Health probes are never limited.
    assert (await client.get("/health")).status_code == 200


async def test_a_spent_ip_budget_refuses_even_a_valid_key_without_verifying_it(
    make_client: Any, make_key: MakeKey, db: Database
) -> None:
    client = make_client(rate_limit_auth="2/minute", trusted_proxies="10.0.0.1")
    known, fresh = await make_key(Role.viewer), await make_key(Role.viewer)
    assert (await client.get("/api/v1/machines", headers=known)).status_code == 200  # cached
    for _ in range(2):
        guess = await client.get("/api/v1/machines", headers={"X-API-Key": "wk_guess"})
        assert_problem(guess, 401, "UNAUTHORIZED")
    for headers in (known, fresh):
        refused = await client.get("/api/v1/machines", headers=headers)
        problem = assert_problem(refused, 429, "RATE_LIMITED")
        assert 0 < int(refused.headers["retry-after"]) <= 61
        assert "failed sign-ins" in str(problem["detail"])
    key_hash = hash_key(fresh["Authorization"].removeprefix("Bearer "))
    row = await db.run(lambda s: s.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash)))
    assert row is not None and row.last_used_at is None, "the key was never looked up"
    # Another address has a budget of its own.
    other = make_client(rate_limit_auth="2/minute", trusted_proxies="127.0.0.1")
    elsewhere = {"X-Forwarded-For": "203.0.113.7", **fresh}
    assert (await other.get("/api/v1/machines", headers=elsewhere)).status_code == 200


async def test_failed_verify_calls_spend_the_ip_budget(make_client: Any, admin: Headers) -> None:
    client = make_client(rate_limit_auth="2/minute", trusted_proxies="10.0.0.1")
    bad = await client.post("/api/v1/auth/verify", json={"id_token": "x.y.z"})
    assert_problem(bad, 401, "UNAUTHORIZED")
    assert_problem(await client.post("/api/v1/auth/verify", headers=admin), 401, "UNAUTHORIZED")
    assert_problem(await client.get("/api/v1/machines", headers=admin), 429, "RATE_LIMITED")
    refused = await client.post("/api/v1/auth/verify", json={"id_token": "x.y.z"})
    assert_problem(refused, 429, "RATE_LIMITED")


async def test_forwarded_addresses_from_trusted_proxies_count_separately(make_client: Any) -> None:
    client = make_client(rate_limit_auth="1/minute", trusted_proxies="127.0.0.1")
    first = await client.get("/api/v1/machines", headers={"X-Forwarded-For": "203.0.113.1"})
    second = await client.get("/api/v1/machines", headers={"X-Forwarded-For": "203.0.113.2"})
    again = await client.get("/api/v1/machines", headers={"X-Forwarded-For": "203.0.113.1"})
    assert [first.status_code, second.status_code, again.status_code] == [401, 401, 429]


async def test_replicas_share_one_budget_in_redis(
    make_client: Any, admin: Headers, redis_url: str
) -> None:
    shared = {
        "rate_limit_storage_uri": redis_url,
        "rate_limit_read": "4/minute",
        "rate_limit_prefix": f"test-{uuid.uuid4().hex}",
    }
    one, two = make_client(**shared), make_client(**shared)
    codes = [
        (await (one if n % 2 else two).get("/api/v1/machines", headers=admin)).status_code
        for n in range(5)
    ]
    assert codes == [200, 200, 200, 200, 429]
    assert_problem(await one.get("/api/v1/machines", headers=admin), 429, "RATE_LIMITED")


async def test_redis_down_fails_open(make_client: Any, admin: Headers) -> None:
    client = make_client(rate_limit_storage_uri="redis://127.0.0.1:1/0", rate_limit_read="1/minute")
    for _ in range(3):
        response = await client.get("/api/v1/machines", headers=admin)
        assert response.status_code == 200
        assert "x-ratelimit-limit" not in response.headers
    status = (await client.get("/health/status")).json()
    assert status["components"]["rate_limit_store"]["status"] == "down"


async def test_every_response_carries_the_budget_it_was_counted_against(
    make_client: Any, admin: Headers, make_key: MakeKey
) -> None:
    """Errors too: a refused credential shows the address's budget (what it spent), a 403 the
    caller's (a refused call spends nothing), a 404 or 422 after sign-in the caller's."""
    client = make_client(
        rate_limit_auth="7/minute", rate_limit_read="11/minute", rate_limit_write="13/minute"
    )

    def budget(response: httpx.Response) -> tuple[str, str]:
        assert int(response.headers["x-ratelimit-reset"]) > 0
        return response.headers["x-ratelimit-limit"], response.headers["x-ratelimit-remaining"]

    missing = await client.get("/api/v1/machines")
    assert_problem(missing, 401, "UNAUTHORIZED")
    assert budget(missing) == ("7", "6")
    wrong = await client.get("/api/v1/machines", headers={"X-API-Key": "wk_guess"})
    assert_problem(wrong, 401, "UNAUTHORIZED")
    assert budget(wrong) == ("7", "5")
    no_route = await client.get("/api/v1/no-such-thing")
    assert no_route.status_code == 404
    assert budget(no_route) == ("7", "5")  # nothing spent: the address's budget as it stands
    repeated = await client.get("/api/v1/machines?limit=1&limit=2", headers=admin)
    assert_problem(repeated, 422, "VALIDATION_ERROR")
    assert budget(repeated) == ("7", "5")  # refused before any credential was read

    viewer = await make_key(Role.viewer)
    machine = {"code": "RL-403", "name": "x", "type": "TIG"}
    forbidden = await client.post("/api/v1/machines", json=machine, headers=viewer)
    assert_problem(forbidden, 403, "FORBIDDEN")
    assert budget(forbidden) == ("13", "13")  # the caller's write budget, unspent
    missing_row = await client.get("/api/v1/machines/987654", headers=admin)
    assert_problem(missing_row, 404, "NOT_FOUND")
    assert budget(missing_row) == ("11", "10")
    invalid = await client.get("/api/v1/machines?limit=0", headers=admin)
    assert_problem(invalid, 422, "VALIDATION_ERROR")
    assert budget(invalid) == ("11", "9")
    bad_body = await client.post("/api/v1/machines", json={"code": ""}, headers=admin)
    assert_problem(bad_body, 422, "VALIDATION_ERROR")
    assert budget(bad_body) == ("13", "12")
    # Health probes and metrics are never limited: no budget to show.
    assert "x-ratelimit-limit" not in (await client.get("/health")).headers
