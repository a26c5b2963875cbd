from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from app.api_keys import service
from app.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.auth.deps import FORGET_CREDENTIALS, require
from app.auth.principal import Principal
from app.auth.roles import Permission
from app.core.db import SessionDep
from app.core.http import Router
from app.core.idempotency import NO_REPLAY
from app.core.openapi import errors

router = Router(prefix="/api-keys", tags=["api keys"])
Admin = Annotated[Principal, require(Permission.api_key_admin)]


@router.get("", response_model=list[ApiKeyRead], responses=errors(401, 403))
async def list_api_keys(
    session: SessionDep,
    _: Admin,
    include_revoked: Annotated[bool, Query(description="Also list revoked keys")] = False,
) -> list[ApiKeyRead]:
    """List API keys (never the keys themselves)."""
    rows = await service.list_api_keys(session, include_revoked=include_revoked)
    return [ApiKeyRead.model_validate(row) for row in rows]


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 422),
    dependencies=[NO_REPLAY],
)
async def create_api_key(
    body: ApiKeyCreate, session: SessionDep, principal: Admin, request: Request, response: Response
) -> ApiKeyCreated:
    """Create an API key for a machine or a script. The key is in this response only. It
    records its creator (`created_by_id`, or `created_by_key_id` when an API key makes it) and
    never acts above the creator's current role; it is revoked when its creator is deactivated
    or revoked."""
    api_key, key = await service.create_api_key(
        session,
        name=body.name,
        role=body.role,
        expires_at=body.expires_at,
        created_by_id=principal.id if principal.kind == "user" else None,
        created_by_key_id=principal.id if principal.kind == "api_key" else None,
    )
    response.headers["Location"] = str(request.url_for("get_api_key", key_id=api_key.id))
    return ApiKeyCreated.model_validate(
        {**ApiKeyRead.model_validate(api_key).model_dump(), "key": key}
    )


@router.get("/{key_id:int}", response_model=ApiKeyRead, responses=errors(401, 403, 404))
async def get_api_key(key_id: int, session: SessionDep, _: Admin) -> ApiKeyRead:
    """One API key's details."""
    return ApiKeyRead.model_validate(await service.get_api_key(session, key_id))


@router.delete(
    "/{key_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409),
    dependencies=[FORGET_CREDENTIALS],
)
async def revoke_api_key(key_id: int, session: SessionDep, _: Admin) -> None:
    """Revoke an API key, and the keys it created: they stop working at once on this worker and
    within `AUTH_CACHE_SECONDS` (5 s by default) on the others; the records stay for the audit
    trail."""
    await service.revoke_api_key(session, key_id)
