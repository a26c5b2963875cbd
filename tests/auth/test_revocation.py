"""A revocation reaches a client that keeps calling: verified credentials are kept
AUTH_CACHE_SECONDS from their verification, never renewed by use, and a change made through the
API clears the worker's cache only after it has committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from firebase_admin import auth
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.auth.cache import CredentialCache
from app.auth.principal import Principal
from app.auth.roles import Role
from app.core.db import Database
from tests.auth.workers import answers, poll, seconds_until, worker
from tests.conftest import Headers, MakeKey
from tests.firebase_emulator import PROJECT, Emulator

ME = "/api/v1/auth/me"
CACHE = 1.0  # AUTH_CACHE_SECONDS of these workers
POLLING = {"auth_cache_seconds": CACHE, "rate_limit_auth": "600/minute"}  # /auth/me is AUTH
SLACK = 1.0  # a poll's interval and the time of the calls themselves


def token_of(headers: Headers) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def test_a_key_revoked_on_another_worker_stops_a_polling_client(
    db: Database, make_key: MakeKey
) -> None:
    admin, victim = await make_key(Role.admin), await make_key(Role.viewer)
    async with (
        worker(db, **POLLING) as (one, _),
        worker(db, **POLLING) as (two, _),
    ):
        # Longer than one cache lifetime: a renewed entry would outlive it.
        assert set(await poll(lambda: two.get(ME, headers=victim), 2 * CACHE)) == {200}
        victim_id = next(
            k["id"]
            for k in (await one.get("/api/v1/api-keys", headers=admin)).json()
            if k["role"] == "viewer"
        )
        assert (await one.delete(f"/api/v1/api-keys/{victim_id}", headers=admin)).status_code == 204
        assert (await one.get(ME, headers=victim)).status_code == 401, "at once on its worker"
        took = await seconds_until(answers(401, lambda: two.get(ME, headers=victim)), 4 * CACHE)
        assert took <= CACHE + SLACK


@contextmanager
def at_commit(action: object) -> Iterator[None]:
    """Run `action()` when a session commits: a request that looked the credential up just
    before the change became visible, and puts what it read into the cache now."""

    def before_commit(session: Session) -> None:
        action()  # type: ignore[operator]

    event.listen(Session, "before_commit", before_commit)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", before_commit)


async def test_a_lookup_racing_a_key_revocation_does_not_put_the_key_back(
    db: Database, make_key: MakeKey
) -> None:
    admin, victim = await make_key(Role.admin), await make_key(Role.manager)
    async with worker(db, auth_cache_seconds=60) as (client, app):
        cache = app.state.credentials
        assert (await client.get(ME, headers=victim)).status_code == 200
        # The admin is verified (and its last use recorded) now, so the DELETE commits once.
        keys = (await client.get("/api/v1/api-keys", headers=admin)).json()
        victim_id = next(k["id"] for k in keys if k["role"] == "manager")
        stale = cache.get(token_of(victim))
        assert stale is not None
        with at_commit(lambda: cache.put(token_of(victim), stale)):
            response = await client.delete(f"/api/v1/api-keys/{victim_id}", headers=admin)
        assert response.status_code == 204
        assert (await client.get(ME, headers=victim)).status_code == 401


@pytest.fixture
def emulated(firebase_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", firebase_emulator.host)
    return {"firebase_project_id": PROJECT, "firebase_auth_emulator_host": firebase_emulator.host}


async def test_a_lookup_racing_a_deactivation_does_not_put_the_user_back(
    db: Database, make_key: MakeKey, firebase_emulator: Emulator, emulated: dict[str, object]
) -> None:
    admin = await make_key(Role.admin)
    _, token = firebase_emulator.sign_up("racer@workshop.example")
    bearer = {"Authorization": f"Bearer {token}"}
    async with worker(db, auth_cache_seconds=60, **emulated) as (client, app):
        cache = app.state.credentials
        user = (await client.post("/api/v1/auth/verify", headers=bearer)).json()
        assert (await client.get(ME, headers=bearer)).status_code == 200
        assert (await client.get("/api/v1/users", headers=admin)).status_code == 200
        stale = cache.get(token)
        assert stale is not None
        with at_commit(lambda: cache.put(token, stale)):
            response = await client.patch(
                f"/api/v1/users/{user['id']}", json={"active": False}, headers=admin
            )
        assert response.status_code == 200
        assert (await client.get(ME, headers=bearer)).status_code == 401
    firebase_emulator.clear()


async def test_a_user_disabled_in_firebase_is_refused_to_a_polling_client(
    db: Database, firebase_emulator: Emulator, emulated: dict[str, object]
) -> None:
    uid, token = firebase_emulator.sign_up("poller@workshop.example")
    bearer = {"Authorization": f"Bearer {token}"}
    revocation = 1.0  # FIREBASE_REVOCATION_CACHE_SECONDS
    async with worker(db, firebase_revocation_cache_seconds=revocation, **POLLING, **emulated) as (
        client,
        app,
    ):
        assert set(await poll(lambda: client.get(ME, headers=bearer), 2 * CACHE)) == {200}
        auth.update_user(uid, disabled=True, app=app.state.firebase.app)
        took = await seconds_until(
            answers(401, lambda: client.get(ME, headers=bearer)), 4 * (CACHE + revocation)
        )
        assert took <= CACHE + revocation + SLACK
    firebase_emulator.clear()


def test_a_put_from_before_a_clear_is_dropped() -> None:
    cache = CredentialCache(60)
    principal = Principal("api_key", 1, "k", Role.admin)
    before = cache.generation
    cache.clear()
    cache.put("wk_x", principal, before)
    assert cache.get("wk_x") is None
    cache.put("wk_x", principal, cache.generation)
    assert cache.get("wk_x") == principal
