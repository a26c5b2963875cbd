"""Roles and what each may do: the one place the role table of docs/Product.md lives in code.

`Role` is what can be granted: an API key's role, the role an admin gives a user. A signed-in
user may also hold no role yet: `UserRole.pending`, which may see who it is (`GET /auth/me`)
and nothing else. In a principal that state is `None`, so every check of a role handles it.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    viewer = "viewer"
    operator = "operator"
    manager = "manager"
    admin = "admin"


class UserRole(StrEnum):
    """A user's role in force: one of the roles, or pending (signed in, nothing granted)."""

    pending = "pending"
    viewer = "viewer"
    operator = "operator"
    manager = "manager"
    admin = "admin"


class RoleSource(StrEnum):
    """What gave a user the role in force: the role lasts as long as its source does."""

    admins_list = "admins_list"  # a verified email in ADMIN_EMAILS
    claim = "claim"  # the `role` custom claim of the Firebase token
    admin = "admin"  # an admin, with PATCH /users/{id}
    domain = "domain"  # a verified email in FIREBASE_ALLOWED_DOMAINS: FIREBASE_DEFAULT_ROLE
    none = "none"  # nothing: the user is pending


class Permission(StrEnum):
    me = "auth:me"  # who the caller is: every role, and pending users
    read = "read"  # every resource but users and api keys
    import_upload = "imports:upload"
    attachment_upload = "attachments:upload"  # deleting one is resources:write
    work_order_progress = "work_orders:progress"
    inspection_write = "inspections:write"
    stock_adjust = "stock:adjust"
    resource_write = "resources:write"  # machines, templates, schedules, work orders, ...
    import_manage = "imports:manage"  # delete imports, run schedules now
    audit_read = "audit:read"  # the audit trail
    user_admin = "users:admin"
    api_key_admin = "api_keys:admin"
    webhook_manage = "webhooks:manage"  # webhook subscriptions and their deliveries


PENDING = frozenset({Permission.me})
_VIEWER = PENDING | {Permission.read}
_OPERATOR = _VIEWER | {
    Permission.import_upload,
    Permission.attachment_upload,
    Permission.work_order_progress,
    Permission.inspection_write,
    Permission.stock_adjust,
}
_MANAGER = _OPERATOR | {Permission.resource_write, Permission.import_manage, Permission.audit_read}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.viewer: frozenset(_VIEWER),
    Role.operator: frozenset(_OPERATOR),
    Role.manager: frozenset(_MANAGER),
    Role.admin: frozenset(Permission),
}
_RANK = {role: rank for rank, role in enumerate(Role, start=1)}


def permissions(role: Role | None) -> frozenset[Permission]:
    return PENDING if role is None else ROLE_PERMISSIONS[role]


def role_allows(role: Role | None, permission: Permission) -> bool:
    return permission in permissions(role)


def lowest(*roles: Role | None) -> Role | None:
    """The least of the roles; no role (pending) is below every role."""
    if any(role is None for role in roles):
        return None
    return min((role for role in roles if role is not None), key=_RANK.__getitem__)


def granted(role: UserRole | Role | str | None) -> Role | None:
    """The Role a stored user role stands for; None for pending."""
    if role is None or role == UserRole.pending:
        return None
    return Role(role)


def shown(role: Role | None) -> UserRole:
    return UserRole.pending if role is None else UserRole(role.value)
