"""A key never acts above its creator as the creator is now: demoting the creator caps the key,
deactivating or revoking the creator revokes it, on every worker within AUTH_CACHE_SECONDS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from firebase_admin import auth
from sqlalchemy import select, update

from app.auth.roles import Role, RoleSource, UserRole
from app.core.db import Database
from app.models import ApiKey, User
from app.models.base import utcnow
from tests.auth.workers import answers, seconds_until, worker
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem
from tests.firebase_emulator import PROJECT, Emulator

ME = "/api/v1/auth/me"
KEYS = "/api/v1/api-keys"
CACHE = 1.0  # AUTH_CACHE_SECONDS of the workers
SLACK = 1.0
WORKER = {"auth_cache_seconds": CACHE, "rate_limit_auth": "600/minute"}
MACHINE = {"code": "CAP-1", "name": "x", "type": "TIG"}


async def a_user(db: Database, role: Role) -> int:
    """A user an admin gave `role` to."""

    async def work(session: Any) -> int:
        user = User(
            firebase_uid=f"uid-{role}-{utcnow().timestamp()}",
            email=f"{role}@workshop.example",
            role=UserRole(role.value),
            role_source=RoleSource.admin,
            assigned_role=role,
            active=True,
        )
        session.add(user)
        await session.flush()
        return user.id

    return await db.run(work)


async def role_of(client: Any, headers: Headers) -> str:
    return str((await client.get(ME, headers=headers)).json()["role"])


async def test_a_demoted_creator_caps_their_keys_on_every_worker(
    db: Database, make_key: MakeKey, admin: Headers
) -> None:
    user_id = await a_user(db, Role.admin)
    key = await make_key(Role.manager, created_by_id=user_id)
    user = f"/api/v1/users/{user_id}"
    async with worker(db, **WORKER) as (one, _), worker(db, **WORKER) as (two, _):
        assert await role_of(two, key) == "manager"
        assert (await one.patch(user, json={"role": "viewer"}, headers=admin)).status_code == 200
        assert await role_of(one, key) == "viewer", "at once on the worker that made the change"
        assert_problem(
            await one.post("/api/v1/machines", json=MACHINE, headers=key), 403, "FORBIDDEN"
        )

        async def capped() -> bool:
            return await role_of(two, key) == "viewer"

        assert await seconds_until(capped, 4 * CACHE) <= CACHE + SLACK

        assert (await one.patch(user, json={"role": "pending"}, headers=admin)).status_code == 200
        assert await role_of(one, key) == "pending"
        problem = assert_problem(await one.get("/api/v1/machines", headers=key), 403, "FORBIDDEN")
        assert "the user who created it has none" in str(problem["detail"])
        # A key is never raised above its own role.
        assert (await one.patch(user, json={"role": "admin"}, headers=admin)).status_code == 200
        assert await role_of(one, key) == "manager"


async def test_deactivating_a_creator_revokes_their_keys_on_every_worker(
    db: Database, make_key: MakeKey, admin: Headers
) -> None:
    user_id = await a_user(db, Role.admin)
    made_by_user = await make_key(Role.admin, created_by_id=user_id)
    async with worker(db, **WORKER) as (one, _), worker(db, **WORKER) as (two, _):
        created = await one.post(
            KEYS, json={"name": "child", "role": "operator"}, headers=made_by_user
        )
        assert created.status_code == 201
        made_by_key = {"X-API-Key": created.json()["key"]}
        for key in (made_by_user, made_by_key):
            assert (await two.get(ME, headers=key)).status_code == 200
        url = f"/api/v1/users/{user_id}"
        assert (await one.patch(url, json={"active": False}, headers=admin)).status_code == 200
        for key in (made_by_user, made_by_key):
            assert_problem(await one.get(ME, headers=key), 401, "UNAUTHORIZED")
            refused = answers(401, lambda k=key: two.get(ME, headers=k))  # type: ignore[misc]
            assert await seconds_until(refused, 4 * CACHE) <= CACHE + SLACK
        everything = (await one.get(KEYS, params={"include_revoked": True}, headers=admin)).json()
        assert [k["name"] for k in everything if k["revoked_at"]] == ["test admin", "child"]
        # Coming back does not bring the keys back.
        assert (await one.patch(url, json={"active": True}, headers=admin)).status_code == 200
        assert_problem(await one.get(ME, headers=made_by_user), 401, "UNAUTHORIZED")


async def test_a_key_made_by_a_key_follows_it(
    db: Database, make_key: MakeKey, admin: Headers
) -> None:
    user_id = await a_user(db, Role.admin)
    parent = await make_key(Role.admin, created_by_id=user_id)
    async with worker(db, auth_cache_seconds=0) as (client, _):  # every call looks the key up
        created = (
            await client.post(KEYS, json={"name": "c", "role": "admin"}, headers=parent)
        ).json()
        parent_id = (await client.get(ME, headers=parent)).json()["id"]
        assert (created["created_by_id"], created["created_by_key_id"]) == (None, parent_id)
        child = {"X-API-Key": created["key"]}
        assert await role_of(client, child) == "admin"
        url = f"/api/v1/users/{user_id}"
        assert (
            await client.patch(url, json={"role": "operator"}, headers=admin)
        ).status_code == 200
        assert await role_of(client, child) == "operator", "capped by the chain up to the user"

        # A key made by a key made with the CLI has that key's role as its cap.
        by_cli = await client.post(KEYS, json={"name": "m", "role": "viewer"}, headers=admin)
        machine = {"X-API-Key": by_cli.json()["key"]}
        assert await role_of(client, machine) == "viewer"

        # Revoking a key revokes what it made, however deep.
        grandchild = (
            await client.post(KEYS, json={"name": "g", "role": "viewer"}, headers=admin)
        ).json()
        await db.run(
            lambda s: s.execute(
                update(ApiKey)
                .where(ApiKey.id == grandchild["id"])
                .values(created_by_key_id=created["id"])
            )
        )
        assert (await client.delete(f"{KEYS}/{parent_id}", headers=admin)).status_code == 204
        assert_problem(await client.get(ME, headers=child), 401, "UNAUTHORIZED")
        revoked = await db.run(
            lambda s: s.scalars(select(ApiKey.name).where(ApiKey.revoked_at.is_not(None)))
        )
        assert sorted(revoked.all()) == ["c", "g", "test admin"]
        assert await role_of(client, machine) == "viewer"

        # A key whose creating key has expired stops with it.
        temporary = await client.post(
            KEYS,
            json={
                "name": "t",
                "role": "admin",
                "expires_at": (utcnow() + timedelta(hours=1)).isoformat(),
            },
            headers=admin,
        )
        temporary_key = {"X-API-Key": temporary.json()["key"]}
        made = await client.post(KEYS, json={"name": "u", "role": "viewer"}, headers=temporary_key)
        under = {"X-API-Key": made.json()["key"]}
        assert await role_of(client, under) == "viewer"
        await db.run(
            lambda s: s.execute(
                update(ApiKey)
                .where(ApiKey.id == temporary.json()["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        )
        problem = assert_problem(await client.get(ME, headers=under), 401, "UNAUTHORIZED")
        assert "revoked or expired" in str(problem["detail"])


async def test_a_signed_in_admins_key_follows_their_role(
    db: Database,
    admin: Headers,
    firebase_emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", firebase_emulator.host)
    emulated = {
        "firebase_project_id": PROJECT,
        "firebase_auth_emulator_host": firebase_emulator.host,
    }
    uid, token = firebase_emulator.sign_up("keymaker@workshop.example")
    bearer = {"Authorization": f"Bearer {token}"}
    async with worker(db, auth_cache_seconds=0, **emulated) as (client, app):
        user = (await client.post("/api/v1/auth/verify", headers=bearer)).json()
        url = f"/api/v1/users/{user['id']}"
        assert (await client.patch(url, json={"role": "admin"}, headers=admin)).status_code == 200
        created = (
            await client.post(KEYS, json={"name": "k", "role": "manager"}, headers=bearer)
        ).json()
        assert created["created_by_id"] == user["id"]
        key = {"X-API-Key": created["key"]}
        assert await role_of(client, key) == "manager"
        auth.set_custom_user_claims(uid, {"role": "viewer"}, app=app.state.firebase.app)
        fresh = {
            "Authorization": f"Bearer {firebase_emulator.sign_in('keymaker@workshop.example')}"
        }
        assert await role_of(client, fresh) == "viewer"  # the claim outranks the admin's grant
        assert await role_of(client, key) == "viewer"
        auth.set_custom_user_claims(uid, None, app=app.state.firebase.app)
        assert await role_of(client, key) == "viewer", "a claim counts as last seen until sign-in"
        fresh = {
            "Authorization": f"Bearer {firebase_emulator.sign_in('keymaker@workshop.example')}"
        }
        assert await role_of(client, fresh) == "admin"
        assert await role_of(client, key) == "manager"
    firebase_emulator.clear()
