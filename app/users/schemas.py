from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from app.auth.roles import Role
from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ResourceRead, partial


class UserUpdate(InputModel):
    role: Role
    active: bool


UserPatch = partial(UserUpdate, "UserPatch")


class UserRead(ResourceRead):
    firebase_uid: str
    email: str | None
    display_name: str | None
    role: Role
    active: bool
    last_login_at: dt.datetime | None


class UserQuery(ListQuery):
    sort_by: Literal["id", "email", "role", "last_login_at", "created_at"] = "id"
    role: Role | None = None
    active: bool | None = None
    q: str | None = Field(default=None, description="Contains, in email or name")


class VerifyRequest(InputModel):
    id_token: str | None = Field(
        default=None, description="Firebase ID token; or send it as the bearer credential"
    )
