"""Firebase sign-in against the Auth emulator: real accounts, tokens, claims, revocations."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from firebase_admin import auth

from app.core.db import Database
from app.main import create_app
from tests.conftest import Headers, make_settings
from tests.core.test_errors import assert_problem
from tests.firebase_emulator import PROJECT, Emulator


@pytest.fixture
async def fb(
    firebase_emulator: Emulator, db: Database, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", firebase_emulator.host)
    settings = make_settings(
        firebase_project_id=PROJECT,
        firebase_auth_emulator_host=firebase_emulator.host,
        firebase_revocation_cache_seconds=0,
        auth_cache_seconds=0,  # revocations are seen at once (both caches off)
        admin_emails="boss@workshop.example",
    )
    app = create_app(settings, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c, app.state.firebase.app
    app.state.firebase.close()


def email() -> str:
    return f"welder-{uuid.uuid4().hex[:8]}@workshop.example"


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


async def test_first_sign_in_creates_a_viewer(fb: Any, firebase_emulator: Emulator) -> None:
    client, _ = fb
    address = email()
    uid, token = firebase_emulator.sign_up(address)
    verified = await client.post("/api/v1/auth/verify", json={"id_token": token})
    assert verified.status_code == 200, verified.text
    user = verified.json()
    assert (user["firebase_uid"], user["email"], user["role"], user["active"]) == (
        uid,
        address,
        "viewer",
        True,
    )
    me = (await client.get("/api/v1/auth/me", headers=bearer(token))).json()
    assert (me["kind"], me["id"], me["role"], me["name"]) == ("user", user["id"], "viewer", address)
    assert (await client.get("/api/v1/machines", headers=bearer(token))).status_code == 200
    denied = await client.post(
        "/api/v1/machines", json={"code": "X", "name": "x", "type": "TIG"}, headers=bearer(token)
    )
    assert_problem(denied, 403, "FORBIDDEN")
    again = await client.post(
        "/api/v1/auth/verify", headers=bearer(firebase_emulator.sign_in(address))
    )
    assert again.json()["id"] == user["id"], "one user per Firebase account"


async def test_role_claim_and_admin_emails(fb: Any, firebase_emulator: Emulator) -> None:
    client, app = fb
    address = email()
    uid, _ = firebase_emulator.sign_up(address)
    auth.set_custom_user_claims(uid, {"role": "manager"}, app=app)
    token = firebase_emulator.sign_in(address)
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).json()["role"] == "manager"
    created = await client.post(
        "/api/v1/machines", json={"code": "M-FB", "name": "x", "type": "TIG"}, headers=bearer(token)
    )
    assert created.status_code == 201

    boss_uid, boss_token = firebase_emulator.sign_up("boss@workshop.example")
    me = (await client.get("/api/v1/auth/me", headers=bearer(boss_token))).json()
    assert me["role"] == "viewer", "an unverified email is not trusted for ADMIN_EMAILS"
    auth.update_user(boss_uid, email_verified=True, app=app)
    boss_token = firebase_emulator.sign_in("boss@workshop.example")
    assert (await client.get("/api/v1/auth/me", headers=bearer(boss_token))).json()[
        "role"
    ] == "admin"
    firebase_emulator.clear()


async def test_admin_changes_roles_and_deactivates(
    fb: Any, firebase_emulator: Emulator, admin: Headers
) -> None:
    client, _ = fb
    address = email()
    _, token = firebase_emulator.sign_up(address)
    user = (await client.post("/api/v1/auth/verify", headers=bearer(token))).json()
    url = f"/api/v1/users/{user['id']}"
    promoted = await client.patch(url, json={"role": "operator"}, headers=admin)
    assert promoted.status_code == 200 and promoted.json()["role"] == "operator"
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).json()["role"] == "operator"
    listed = (await client.get("/api/v1/users", params={"role": "operator"}, headers=admin)).json()
    assert [u["id"] for u in listed["items"]] == [user["id"]]
    assert (await client.get(url, headers=admin)).json()["email"] == address

    assert (await client.patch(url, json={"active": False}, headers=admin)).status_code == 200
    assert_problem(await client.get("/api/v1/auth/me", headers=bearer(token)), 401, "UNAUTHORIZED")
    assert_problem(
        await client.patch(url, json={"role": "boss"}, headers=admin), 422, "VALIDATION_ERROR"
    )
    assert_problem(
        await client.patch(url, json={"email": "x@y.z"}, headers=admin), 422, "VALIDATION_ERROR"
    )
    assert_problem(await client.get("/api/v1/users/987654", headers=admin), 404, "NOT_FOUND")


async def test_users_are_managed_by_admins_only(fb: Any, make_key: Any) -> None:
    client, _ = fb
    from app.auth.roles import Role

    manager = await make_key(Role.manager)
    assert_problem(await client.get("/api/v1/users", headers=manager), 403, "FORBIDDEN")
    assert_problem(
        await client.patch("/api/v1/users/1", json={"role": "admin"}, headers=manager),
        403,
        "FORBIDDEN",
    )
    assert_problem(await client.get("/api/v1/users"), 401, "UNAUTHORIZED")


async def test_revoked_and_disabled_users_are_refused(fb: Any, firebase_emulator: Emulator) -> None:
    client, app = fb
    address = email()
    uid, token = firebase_emulator.sign_up(address)
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    time.sleep(1.1)  # revocation has one-second resolution
    auth.revoke_refresh_tokens(uid, app=app)
    problem = assert_problem(
        await client.get("/api/v1/auth/me", headers=bearer(token)), 401, "UNAUTHORIZED"
    )
    assert "revoked" in str(problem["detail"])
    fresh = firebase_emulator.sign_in(address)
    assert (await client.get("/api/v1/auth/me", headers=bearer(fresh))).status_code == 200
    auth.update_user(uid, disabled=True, app=app)
    problem = assert_problem(
        await client.get("/api/v1/auth/me", headers=bearer(fresh)), 401, "UNAUTHORIZED"
    )
    assert "disabled" in str(problem["detail"])


async def test_bad_tokens_are_401(fb: Any, admin: Headers) -> None:
    client, _ = fb
    for token in ("not-a-jwt", "a.b.c", ""):
        response = await client.get("/api/v1/auth/me", headers=bearer(token) if token else {})
        assert_problem(response, 401, "UNAUTHORIZED")
    assert_problem(await client.post("/api/v1/auth/verify", headers=admin), 401, "UNAUTHORIZED")
    assert_problem(
        await client.post("/api/v1/auth/verify", json={"id_token": "x.y.z"}), 401, "UNAUTHORIZED"
    )
    assert_problem(
        await client.post("/api/v1/auth/verify", json={"id_token": 5}), 422, "VALIDATION_ERROR"
    )


async def test_without_firebase_only_api_keys_work(client: httpx.AsyncClient) -> None:
    problem = assert_problem(
        await client.post("/api/v1/auth/verify", json={"id_token": "x.y.z"}), 401, "UNAUTHORIZED"
    )
    assert "not configured" in str(problem["detail"])
    assert_problem(
        await client.get("/api/v1/auth/me", headers=bearer("x.y.z")), 401, "UNAUTHORIZED"
    )
