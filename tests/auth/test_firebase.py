"""Firebase sign-in against the Auth emulator: real accounts, tokens, claims, revocations."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from firebase_admin import auth

from app.core.db import Database
from tests.auth.workers import worker
from tests.conftest import Headers
from tests.core.test_errors import assert_problem
from tests.firebase_emulator import PROJECT, Emulator

Worker = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, FastAPI]]]


@pytest.fixture
def signing_in(
    firebase_emulator: Emulator, db: Database, monkeypatch: pytest.MonkeyPatch
) -> Worker:
    """Workers that take the emulator's sign-ins; revocations are seen at once (both caches
    off). Two of them with different settings stand for a restart with a changed setting."""
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", firebase_emulator.host)

    def make(**overrides: object) -> AbstractAsyncContextManager[tuple[httpx.AsyncClient, FastAPI]]:
        settings: dict[str, object] = {
            "firebase_project_id": PROJECT,
            "firebase_auth_emulator_host": firebase_emulator.host,
            "firebase_revocation_cache_seconds": 0,
            "auth_cache_seconds": 0,
            "admin_emails": BOSS,
        }
        return worker(db, **(settings | overrides))

    return make


@pytest.fixture
async def fb(signing_in: Worker) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    async with signing_in() as (client, app):
        yield client, app.state.firebase.app


BOSS = "boss@workshop.example"
ME = "/api/v1/auth/me"


def email(domain: str = "workshop.example") -> str:
    return f"welder-{uuid.uuid4().hex[:8]}@{domain}"


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


async def role_of(client: httpx.AsyncClient, token: str) -> tuple[str, str]:
    """(role in force, what gave it), as a sign-in finds them."""
    user = (await client.post("/api/v1/auth/verify", headers=bearer(token))).json()
    me = (await client.get(ME, headers=bearer(token))).json()
    assert me["role"] == user["role"]
    return user["role"], user["role_source"]


async def test_first_sign_in_waits_for_an_admin(
    fb: Any, firebase_emulator: Emulator, admin: Headers
) -> None:
    client, _ = fb
    address = email()
    uid, token = firebase_emulator.sign_up(address)
    verified = await client.post("/api/v1/auth/verify", json={"id_token": token})
    assert verified.status_code == 200, verified.text
    user = verified.json()
    assert (user["firebase_uid"], user["email"], user["active"]) == (uid, address, True)
    assert (user["role"], user["role_source"], user["assigned_role"]) == ("pending", "none", None)
    me = await client.get(ME, headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {
        "kind": "user",
        "id": user["id"],
        "name": address,
        "role": "pending",
        "permissions": ["auth:me"],
    }
    for url in ("/api/v1/machines", "/api/v1/users", "/api/v1/dashboard/stats"):
        problem = assert_problem(await client.get(url, headers=bearer(token)), 403, "FORBIDDEN")
        assert "waiting for an administrator to grant it a role" in str(problem["detail"])
    pending = await client.get("/api/v1/users", params={"role": "pending"}, headers=admin)
    assert [u["id"] for u in pending.json()["items"]] == [user["id"]]

    granted = await client.patch(
        f"/api/v1/users/{user['id']}", json={"role": "viewer"}, headers=admin
    )
    assert (granted.json()["role"], granted.json()["role_source"]) == ("viewer", "admin")
    assert (await client.get("/api/v1/machines", headers=bearer(token))).status_code == 200
    denied = await client.post(
        "/api/v1/machines", json={"code": "X", "name": "x", "type": "TIG"}, headers=bearer(token)
    )
    assert_problem(denied, 403, "FORBIDDEN")
    again = await client.post(
        "/api/v1/auth/verify", headers=bearer(firebase_emulator.sign_in(address))
    )
    assert again.json()["id"] == user["id"], "one user per Firebase account"


async def test_a_verified_email_of_an_allowed_domain_is_let_in(
    signing_in: Worker, firebase_emulator: Emulator
) -> None:
    async with signing_in(
        firebase_allowed_domains="Workshop.example, @partner.example",
        firebase_default_role="operator",
    ) as (client, app):
        address = email()
        uid, token = firebase_emulator.sign_up(address)
        assert await role_of(client, token) == ("pending", "none"), "not verified: anyone's"
        auth.update_user(uid, email_verified=True, app=app.state.firebase.app)
        assert await role_of(client, firebase_emulator.sign_in(address)) == ("operator", "domain")

        partner = email("partner.example")
        uid, _ = firebase_emulator.sign_up(partner)
        auth.update_user(uid, email_verified=True, app=app.state.firebase.app)
        assert await role_of(client, firebase_emulator.sign_in(partner)) == ("operator", "domain")

        for other in (email("elsewhere.example"), email("sub.workshop.example")):
            uid, _ = firebase_emulator.sign_up(other)
            auth.update_user(uid, email_verified=True, app=app.state.firebase.app)
            assert await role_of(client, firebase_emulator.sign_in(other)) == ("pending", "none")

    async with signing_in() as (client, _):  # the domain is no longer allowed
        assert await role_of(client, firebase_emulator.sign_in(address)) == ("pending", "none")
    firebase_emulator.clear()


async def test_role_claim_and_admin_emails(fb: Any, firebase_emulator: Emulator) -> None:
    client, app = fb
    address = email()
    uid, _ = firebase_emulator.sign_up(address)
    auth.set_custom_user_claims(uid, {"role": "manager"}, app=app)
    token = firebase_emulator.sign_in(address)
    assert await role_of(client, token) == ("manager", "claim")
    created = await client.post(
        "/api/v1/machines", json={"code": "M-FB", "name": "x", "type": "TIG"}, headers=bearer(token)
    )
    assert created.status_code == 201

    boss_uid, boss_token = firebase_emulator.sign_up(BOSS)
    assert await role_of(client, boss_token) == ("pending", "none"), (
        "an unverified email is not trusted for ADMIN_EMAILS"
    )
    auth.update_user(boss_uid, email_verified=True, app=app)
    assert await role_of(client, firebase_emulator.sign_in(BOSS)) == ("admin", "admins_list")
    firebase_emulator.clear()


async def test_a_role_from_admin_emails_ends_when_the_email_leaves_the_list(
    signing_in: Worker, firebase_emulator: Emulator, admin: Headers
) -> None:
    uid, _ = firebase_emulator.sign_up(BOSS)
    async with signing_in() as (listed, app):
        auth.update_user(uid, email_verified=True, app=app.state.firebase.app)
        token = firebase_emulator.sign_in(BOSS)
        assert await role_of(listed, token) == ("admin", "admins_list")
        async with signing_in(admin_emails="") as (unlisted, _):  # a restart without the email
            assert await role_of(unlisted, token) == ("pending", "none")
            assert await role_of(listed, token) == ("admin", "admins_list")
            user = (await listed.get(ME, headers=bearer(token))).json()
            url = f"/api/v1/users/{user['id']}"
            # An admin's grant stays under the list's and is what remains when the list stops.
            patched = (await listed.patch(url, json={"role": "operator"}, headers=admin)).json()
            assert (patched["role"], patched["role_source"], patched["assigned_role"]) == (
                "admin",
                "admins_list",
                "operator",
            )
            assert await role_of(unlisted, token) == ("operator", "admin")
            assert (await unlisted.get("/api/v1/users", headers=bearer(token))).status_code == 403
            assert await role_of(listed, token) == ("admin", "admins_list")
            taken_back = (await listed.patch(url, json={"role": "pending"}, headers=admin)).json()
            assert taken_back["assigned_role"] is None
            assert await role_of(unlisted, token) == ("pending", "none")
    firebase_emulator.clear()


async def test_a_role_from_a_claim_ends_when_the_claim_is_removed(
    fb: Any, firebase_emulator: Emulator, admin: Headers
) -> None:
    client, app = fb
    address = email()
    uid, token = firebase_emulator.sign_up(address)
    user = (await client.post("/api/v1/auth/verify", headers=bearer(token))).json()
    auth.set_custom_user_claims(uid, {"role": "manager"}, app=app)
    assert await role_of(client, firebase_emulator.sign_in(address)) == ("manager", "claim")
    auth.set_custom_user_claims(uid, None, app=app)
    assert await role_of(client, firebase_emulator.sign_in(address)) == ("pending", "none")

    url = f"/api/v1/users/{user['id']}"
    assert (await client.patch(url, json={"role": "viewer"}, headers=admin)).status_code == 200
    auth.set_custom_user_claims(uid, {"role": "admin"}, app=app)
    assert await role_of(client, firebase_emulator.sign_in(address)) == ("admin", "claim")
    auth.set_custom_user_claims(uid, {"role": "boss"}, app=app)  # names no role: ignored
    assert await role_of(client, firebase_emulator.sign_in(address)) == ("viewer", "admin")


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
    for bad in ({"role": "boss"}, {"role": None}, {"active": None}):
        assert_problem(await client.patch(url, json=bad, headers=admin), 422, "VALIDATION_ERROR")
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
