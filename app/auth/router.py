from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends
from pydantic import BaseModel

from app.auth.deps import firebase_user, require
from app.auth.principal import Principal
from app.auth.roles import ROLE_PERMISSIONS, Permission, Role
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
    role: Role
    permissions: list[Permission]


@router.get("/me", response_model=Me, responses=errors(401))
async def me(principal: Principal = require(Permission.read)) -> Me:
    """Who the credential belongs to, its role and what that role may do."""
    return Me(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        role=principal.role,
        permissions=sorted(ROLE_PERMISSIONS[principal.role]),
    )


@router.post("/verify", response_model=UserRead, responses=errors(401, 422, 503))
async def verify(
    db: DatabaseDep, principal: Annotated[Principal, Depends(firebase_user)]
) -> UserRead:
    """Exchange a Firebase ID token (`{"id_token": ...}` or the bearer credential) for the user
    it belongs to: created on first sign-in, with the role in force."""
    return UserRead.model_validate(await users.signed_in_user(db, principal.id))
