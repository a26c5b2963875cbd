"""Every error the foundation can return comes as one problem+json body."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.auth.roles import Role
from app.core.db import Database, SessionDep
from app.models import User

PROBLEM_KEYS = {"type", "title", "status", "detail", "error_code", "request_id", "timestamp"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["error_code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.fixture
def test_routes(app: FastAPI) -> FastAPI:
    """Routes that exist only in tests, to drive the error handlers and the session."""
    router = APIRouter(prefix="/_test")

    @router.post("/duplicate-user")
    async def duplicate_user(session: SessionDep) -> None:
        session.add(User(firebase_uid="same", role=Role.viewer, active=True))
        await session.flush()
        session.add(User(firebase_uid="same", role=Role.viewer, active=True))
        await session.flush()

    @router.post("/write-then-fail")
    async def write_then_fail(session: SessionDep) -> None:
        session.add(User(firebase_uid="written", role=Role.viewer, active=True))
        await session.flush()
        raise RuntimeError("boom: SELECT secret FROM internals")

    @router.post("/write")
    async def write(session: SessionDep) -> dict[str, int]:
        user = User(firebase_uid="kept", role=Role.viewer, active=True)
        session.add(user)
        await session.flush()
        return {"id": user.id}

    calls = {"n": 0}

    @router.get("/flaky-read")
    async def flaky_read() -> dict[str, int]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("SELECT 1", {}, ConnectionResetError("lost connection"))
        return {"calls": calls["n"]}

    @router.get("/always-down")
    async def always_down() -> None:
        calls["n"] += 1
        raise OperationalError("SELECT 1", {}, ConnectionResetError("lost connection"))

    @router.post("/echo")
    async def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    app.include_router(router)
    app.state.test_calls = calls
    return app


async def count_users(db: Database) -> int:
    return await db.run(lambda s: s.scalar(select(func.count()).select_from(User)), write=False)  # type: ignore[arg-type,return-value]


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["allow"]


async def test_validation_error_lists_fields(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post("/api/v1/api-keys", json={"role": "boss"}, headers=admin)
    body = assert_problem(response, 422, "VALIDATION_ERROR")
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert fields == {"name", "role"}


async def test_malformed_json_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post(
        "/api/v1/api-keys",
        content=b'{"name": ',
        headers={**admin, "content-type": "application/json"},
    )
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_integrity_error_is_409_and_rolled_back(
    test_routes: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    body = assert_problem(await client.post("/_test/duplicate-user"), 409, "INTEGRITY_ERROR")
    assert "SELECT" not in str(body)
    assert "UNIQUE" not in str(body).upper()
    assert await count_users(db) == 0


async def test_unexpected_error_is_500_without_internals(
    test_routes: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    body = assert_problem(await client.post("/_test/write-then-fail"), 500, "INTERNAL_ERROR")
    assert "secret" not in str(body)
    assert "Traceback" not in str(body)
    assert await count_users(db) == 0, "the failed request's write must be rolled back"


async def test_successful_write_is_committed_before_the_response(
    test_routes: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.post("/_test/write")
    assert response.status_code == 200
    assert await count_users(db) == 1


async def test_transient_error_on_a_read_is_retried(
    test_routes: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.get("/_test/flaky-read")
    assert response.status_code == 200
    assert response.json() == {"calls": 2}


async def test_a_read_that_keeps_failing_ends_503_after_bounded_retries(
    test_routes: FastAPI, client: httpx.AsyncClient, settings: object
) -> None:
    response = await client.get("/_test/always-down")
    assert_problem(response, 503, "DATABASE_UNAVAILABLE")
    assert response.headers["retry-after"]
    assert test_routes.state.test_calls["n"] == 3  # db_retry_attempts


async def test_body_over_the_limit_is_413(
    test_routes: FastAPI, client: httpx.AsyncClient, settings: object
) -> None:
    big = {"x": "a" * (1024 * 1024 + 10)}
    assert_problem(await client.post("/_test/echo", json=big), 413, "PAYLOAD_TOO_LARGE")


async def test_chunked_body_over_the_limit_is_413(
    test_routes: FastAPI, client: httpx.AsyncClient
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"x": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'

    response = await client.post(
        "/_test/echo", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


async def test_request_id_is_taken_from_the_client(client: httpx.AsyncClient) -> None:
    rid = "3f1c9a0e8b7d4c2a9e6f5d4c3b2a1f00"
    response = await client.get("/api/v1/auth/me", headers={"X-Request-ID": rid})
    body = assert_problem(response, 401, "UNAUTHORIZED")
    assert body["request_id"] == rid
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("role", list(Role))
async def test_auth_me_reports_the_role(client: httpx.AsyncClient, make_key, role: Role) -> None:  # type: ignore[no-untyped-def]
    headers = await make_key(role)
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "api_key"
    assert body["role"] == role.value
    assert "read" in body["permissions"]


async def test_405_names_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    # Each verb is a route of its own; the Allow header still lists them all.
    response = await client.request("OPTIONS", "/api/v1/machines/1")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "DELETE, GET, PATCH, PUT"
    response = await client.put("/api/v1/workorders/export")  # not an id: no PUT route
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"
    # The last router, past every other router's prefix (app.core.http.Router passes over them)
    response = await client.post("/api/v1/dashboard/workorders")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"


async def test_dates_are_iso_text_not_numbers(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"name": "ci", "role": "viewer", "expires_at": 0}
    response = await client.post("/api/v1/api-keys", json=body, headers=admin)
    assert_problem(response, 422, "VALIDATION_ERROR")
    assert "ISO 8601" in response.json()["detail"]
