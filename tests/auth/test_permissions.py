"""Every route declares its permission; the role table grants what docs/Product.md says."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.auth.deps import PERMISSION_ATTR
from app.auth.roles import ROLE_PERMISSIONS, Permission, Role, UserRole, lowest, permissions
from app.main import create_app
from tests.conftest import make_settings

OPEN_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def declared_permissions(dependant: Dependant) -> list[object]:
    found = []
    if dependant.call is not None and hasattr(dependant.call, PERMISSION_ATTR):
        found.append(getattr(dependant.call, PERMISSION_ATTR))
    for sub in dependant.dependencies:
        found.extend(declared_permissions(sub))
    return found


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    routes = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if context.path in OPEN_PATHS:
            continue
        assert isinstance(route, APIRoute), f"unexpected route type at {context.path}"
        routes.append((str(context.path), route))
    return routes


def test_every_route_declares_exactly_one_permission() -> None:
    app = create_app(make_settings())
    missing = []
    for path, route in api_routes(app):
        perms = declared_permissions(route.dependant)
        public = getattr(route.endpoint, PERMISSION_ATTR, "unset") is None
        if public:
            assert path.startswith("/health") or path == "/metrics", f"{path} is public"
            continue
        if len(perms) != 1:
            missing.append(f"{sorted(route.methods)} {path}: {perms}")
    assert not missing, "routes without exactly one permission:\n" + "\n".join(missing)


def test_role_table_matches_the_design() -> None:
    viewer, operator, manager, admin = (ROLE_PERMISSIONS[r] for r in Role)
    assert permissions(None) == {Permission.me}, "a pending user may only ask who it is"
    assert viewer == {Permission.me, Permission.read}
    assert permissions(None) < viewer < operator < manager < admin
    assert {Permission.import_upload, Permission.stock_adjust} <= operator
    assert Permission.resource_write not in operator
    assert Permission.resource_write in manager
    assert not {Permission.user_admin, Permission.api_key_admin} & manager
    assert admin == set(Permission)
    assert [r.value for r in UserRole] == ["pending", *(r.value for r in Role)]


def test_lowest_role() -> None:
    assert lowest(Role.admin, Role.viewer) is Role.viewer
    assert lowest(Role.manager, Role.operator, Role.admin) is Role.operator
    assert lowest(Role.admin, None) is None
