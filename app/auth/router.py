from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends
from pydantic import BaseModel, Field

from app.auth.deps import firebase_user, require
from app.auth.principal import Principal
from app.auth.roles import Permission, UserRole, permissions, shown
from app.core.db import DatabaseDep
from app.core.http import AUTH, Router
from app.core.openapi import errors
from app.users import service as users
from app.users.schemas import UserRead

router = Router(prefix="/auth", tags=["auth"], dependencies=[AUTH])


class Me(BaseModel):
    kind: Literal["user", "api_key"]
    id: int
    name: str
    role: UserRole = Field(
        description="The role in force; `pending`: waiting for an administrator to grant one"
    )
    permissions: list[Permission]


@router.get("/me", response_model=Me, responses=errors(401))
async def me(principal: Principal = require(Permission.me)) -> Me:
    """Who the credential belongs to, its role in force and what that role may do. A user
    waiting for an administrator (`pending`) gets this answer and 403 from every other route.
    An API key acts with the lower of its own role and its creator's current role."""
    return Me(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        role=shown(principal.role),
        permissions=sorted(permissions(principal.role)),
    )


@router.post("/verify", response_model=UserRead, responses=errors(401, 422, 503))
async def verify(
    db: DatabaseDep, principal: Annotated[Principal, Depends(firebase_user)]
) -> UserRead:
    """Exchange a Firebase ID token (`{"id_token": ...}` or the bearer credential) for the user
    it belongs to: created on first sign-in, with the role in force and what gave it. A new
    user is `pending` (no access) until an administrator grants a role, unless ADMIN_EMAILS, a
    role claim or a verified email in FIREBASE_ALLOWED_DOMAINS gives one."""
    return UserRead.model_validate(await users.signed_in_user(db, principal.id))
