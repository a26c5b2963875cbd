from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from app.auth.roles import Role, RoleSource, UserRole
from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ResourceRead, partial


class UserUpdate(InputModel):
    role: UserRole = Field(
        description="The role to grant; `pending` takes the admin's grant back. A role from "
        "ADMIN_EMAILS or a claim stays in force above it while they last."
    )
    active: bool = Field(
        description="`false` shuts the user out (401) and revokes the API keys they created"
    )


UserPatch = partial(UserUpdate, "UserPatch")


class UserRead(ResourceRead):
    firebase_uid: str
    email: str | None
    display_name: str | None
    role: UserRole = Field(description="The role in force; `pending`: no access until granted")
    role_source: RoleSource = Field(
        description="What gave the role in force: `admins_list` (ADMIN_EMAILS), `claim` (the "
        "token's role claim), `admin` (set here), `domain` (FIREBASE_ALLOWED_DOMAINS), `none`"
    )
    assigned_role: Role | None = Field(
        description="The role an admin set, in force when no list or claim gives another"
    )
    active: bool
    last_login_at: dt.datetime | None


class UserQuery(ListQuery):
    sort_by: Literal["id", "email", "role", "last_login_at", "created_at"] = "id"
    role: UserRole | None = None
    role_source: RoleSource | None = None
    active: bool | None = None
    q: str | None = Field(default=None, description="Contains, in email or name")


class VerifyRequest(InputModel):
    id_token: str | None = Field(
        default=None, description="Firebase ID token; or send it as the bearer credential"
    )
