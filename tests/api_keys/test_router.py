from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from app.api_keys.service import hash_key
from app.auth.roles import Role
from app.core.db import Database
from app.models import ApiKey
from app.models.base import utcnow
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem

URL = "/api/v1/api-keys"


async def test_create_shows_the_key_once_and_stores_only_its_hash(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    response = await client.post(URL, json={"name": "cell 3", "role": "operator"}, headers=admin)
    assert response.status_code == 201
    body = response.json()
    key = body["key"]
    assert key.startswith("wk_")
    assert len(key) > 40
    assert body["prefix"] == key[:11]
    assert response.headers["location"].endswith(f"{URL}/{body['id']}")

    row = await db.run(lambda s: s.scalar(select(ApiKey).where(ApiKey.id == body["id"])))
    assert row is not None
    assert row.key_hash == hash_key(key)
    assert key not in (row.key_hash, row.prefix, row.name)

    me = await client.get("/api/v1/auth/me", headers={"X-API-Key": key})
    assert me.json()["role"] == "operator"
    listed = (await client.get(URL, headers=admin)).json()
    assert all("key" not in item for item in listed)
    fetched = await client.get(response.headers["location"], headers=admin)
    assert fetched.status_code == 200
    assert "key" not in fetched.json()


async def test_revoked_key_stops_working_at_once(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    victim = await make_key(Role.manager)
    assert (await client.get("/api/v1/auth/me", headers=victim)).status_code == 200
    keys = (await client.get(URL, headers=admin)).json()
    victim_id = next(k["id"] for k in keys if k["role"] == "manager")

    assert (await client.delete(f"{URL}/{victim_id}", headers=admin)).status_code == 204
    assert_problem(await client.get("/api/v1/auth/me", headers=victim), 401, "UNAUTHORIZED")
    assert_problem(await client.delete(f"{URL}/{victim_id}", headers=admin), 409, "CONFLICT")

    active = {k["id"] for k in (await client.get(URL, headers=admin)).json()}
    everything = (await client.get(URL, params={"include_revoked": True}, headers=admin)).json()
    assert victim_id not in active
    assert any(k["id"] == victim_id and k["revoked_at"] for k in everything)


async def test_expired_key_is_401(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    expired = await make_key(Role.admin, expires_at=utcnow() - timedelta(seconds=1))
    assert_problem(await client.get("/api/v1/auth/me", headers=expired), 401, "UNAUTHORIZED")


async def test_unknown_or_malformed_credentials_are_401(client: httpx.AsyncClient) -> None:
    for headers in (
        {"Authorization": "Bearer wk_not-a-real-key"},
        {"Authorization": "Bearer something-else"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "wk_nope"},
    ):
        response = await client.get(URL, headers=headers)
        assert_problem(response, 401, "UNAUTHORIZED")
        assert response.headers["www-authenticate"] == "Bearer"


async def test_last_used_at_is_recorded(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    await client.get("/api/v1/auth/me", headers=admin)
    row = await db.run(lambda s: s.scalar(select(ApiKey)))
    assert row is not None
    assert row.last_used_at is not None
    assert utcnow() - row.last_used_at < timedelta(minutes=1)


async def test_only_admins_manage_keys(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    for role in (Role.viewer, Role.operator, Role.manager):
        headers = await make_key(role)
        body = assert_problem(await client.get(URL, headers=headers), 403, "FORBIDDEN")
        assert body["required_permission"] == "api_keys:admin"
        response = await client.post(URL, json={"name": "x", "role": "admin"}, headers=headers)
        assert_problem(response, 403, "FORBIDDEN")
        assert_problem(await client.delete(f"{URL}/1", headers=headers), 403, "FORBIDDEN")
        assert_problem(await client.get(f"{URL}/1", headers=headers), 403, "FORBIDDEN")
    assert_problem(await client.get(URL), 401, "UNAUTHORIZED")


async def test_missing_key_is_404(client: httpx.AsyncClient, admin: Headers) -> None:
    assert_problem(await client.get(f"{URL}/999999", headers=admin), 404, "NOT_FOUND")
    assert_problem(await client.delete(f"{URL}/999999", headers=admin), 404, "NOT_FOUND")


async def test_create_rejects_unknown_fields_and_naive_expiry(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    for body in (
        {"name": "x", "role": "viewer", "id": 5},
        {"name": "x", "role": "viewer", "expires_at": "2030-01-01T00:00:00"},
        {"name": "", "role": "viewer"},
    ):
        assert_problem(await client.post(URL, json=body, headers=admin), 422, "VALIDATION_ERROR")
