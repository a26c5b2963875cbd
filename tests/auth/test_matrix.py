"""Every route x every role, and a pending user: forbidden pairs answer 403, allowed pairs never
401/403 (a pending user may only ask who it is).

Generated from the app's own routes and the role table, so a new route is covered the day it
is added (and the route walk in test_permissions fails if it declares no permission)."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from app.auth.deps import PERMISSION_ATTR
from app.auth.roles import Role, permissions
from app.core.db import Database
from app.main import create_app
from tests.auth.test_permissions import api_routes, declared_permissions
from tests.conftest import MakeKey, make_settings
from tests.firebase_emulator import PROJECT, Emulator

FIREBASE_ONLY = {"/api/v1/auth/verify"}  # refuses API keys by design; tested with Firebase


def cases() -> list[tuple[str, str, object]]:
    app = create_app(make_settings())
    found = []
    for path, route in api_routes(app):
        if getattr(route.endpoint, PERMISSION_ATTR, "unset") is None or path in FIREBASE_ONLY:
            continue
        (permission,) = declared_permissions(route.dependant)
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, path, permission))
    return found


CASES = cases()


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("role", [*Role, None], ids=lambda r: r or "pending")
async def test_role_route_matrix(
    role: Role | None, db: Database, make_key: MakeKey, request: pytest.FixtureRequest
) -> None:
    overrides: dict[str, object] = {"rate_limit_enabled": False}
    if role is None:  # a real pending user: signed up with Firebase, granted nothing
        emulator: Emulator = request.getfixturevalue("firebase_emulator")
        request.getfixturevalue("monkeypatch").setenv("FIREBASE_AUTH_EMULATOR_HOST", emulator.host)
        overrides |= {"firebase_project_id": PROJECT, "firebase_auth_emulator_host": emulator.host}
        _, token = emulator.sign_up(f"matrix-{uuid.uuid4().hex[:8]}@workshop.example")
        headers = {"Authorization": f"Bearer {token}"}
    else:
        headers = await make_key(role)
    app = create_app(make_settings(**overrides), database=db)
    wrong = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        for method, path, permission in CASES:
            url = re.sub(r"\{[^}]+\}", "987654", path)
            response = await client.request(method, url, headers=headers)
            allowed = permission in permissions(role)
            if allowed and response.status_code in (401, 403):
                wrong.append(f"{role} may {method} {path} but got {response.status_code}")
            if not allowed and response.status_code != 403:
                wrong.append(f"{role} may not {method} {path} but got {response.status_code}")
        await app.state.importer.wait_idle()
    if app.state.firebase is not None:
        app.state.firebase.close()
    assert len(CASES) > 50
    assert not wrong, "\n".join(wrong)
