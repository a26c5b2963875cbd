"""Roles and what each may do: the one place the role table of docs/Product.md lives in code."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    viewer = "viewer"
    operator = "operator"
    manager = "manager"
    admin = "admin"


class Permission(StrEnum):
    read = "read"  # every resource but users and api keys
    import_upload = "imports:upload"
    work_order_progress = "work_orders:progress"
    inspection_write = "inspections:write"
    stock_adjust = "stock:adjust"
    resource_write = "resources:write"  # machines, templates, schedules, work orders, ...
    import_manage = "imports:manage"  # delete imports, run schedules now
    user_admin = "users:admin"
    api_key_admin = "api_keys:admin"


_VIEWER = {Permission.read}
_OPERATOR = _VIEWER | {
    Permission.import_upload,
    Permission.work_order_progress,
    Permission.inspection_write,
    Permission.stock_adjust,
}
_MANAGER = _OPERATOR | {Permission.resource_write, Permission.import_manage}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.viewer: frozenset(_VIEWER),
    Role.operator: frozenset(_OPERATOR),
    Role.manager: frozenset(_MANAGER),
    Role.admin: frozenset(Permission),
}


def role_allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
