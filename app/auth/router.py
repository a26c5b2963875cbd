from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from app.auth.deps import require
from app.auth.principal import Principal
from app.auth.roles import ROLE_PERMISSIONS, Permission, Role
from app.core.openapi import errors

router = APIRouter(prefix="/auth", tags=["auth"])


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
