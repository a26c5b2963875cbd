"""Every route x every role: forbidden pairs answer 403, allowed pairs never 401/403.

Generated from the app's own routes and the role table, so a new route is covered the day it
is added (and the route walk in test_permissions fails if it declares no permission)."""

from __future__ import annotations

import re

import httpx
import pytest

from app.auth.deps import PERMISSION_ATTR
from app.auth.roles import ROLE_PERMISSIONS, Role
from app.core.db import Database
from app.main import create_app
from tests.auth.test_permissions import api_routes, declared_permissions
from tests.conftest import MakeKey, make_settings

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
@pytest.mark.parametrize("role", list(Role))
async def test_role_route_matrix(role: Role, db: Database, make_key: MakeKey) -> None:
    app = create_app(make_settings(rate_limit_enabled=False), database=db)
    headers = await make_key(role)
    wrong = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        for method, path, permission in CASES:
            url = re.sub(r"\{[^}]+\}", "987654", path)
            response = await client.request(method, url, headers=headers)
            allowed = permission in ROLE_PERMISSIONS[role]
            if allowed and response.status_code in (401, 403):
                wrong.append(f"{role} may {method} {path} but got {response.status_code}")
            if not allowed and response.status_code != 403:
                wrong.append(f"{role} may not {method} {path} but got {response.status_code}")
        await app.state.importer.wait_idle()
    assert len(CASES) > 50
    assert not wrong, "\n".join(wrong)
