"""Authentication and permission dependencies.

`require(Permission.x)` is attached to every route (a test walks the app and fails on a route
without one). It resolves the caller from `Authorization: Bearer ...` or `X-API-Key`, then checks
the role. A missing or bad credential is 401 with `WWW-Authenticate: Bearer`; a valid one
without the permission is 403.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import BackgroundTasks, Body, Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.api_keys import service as api_keys
from app.auth.cache import CredentialCache
from app.auth.principal import Principal
from app.auth.roles import Permission
from app.core import audit, idempotency
from app.core.db import get_db
from app.core.errors import Forbidden, Unauthorized
from app.core.http import transport
from app.models.base import utcnow
from app.users.schemas import VerifyRequest

# auto_error=False: we raise our own problem+json 401 instead of FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="Firebase ID token or API key (wk_...)")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key (wk_...)")

PERMISSION_ATTR = "__workshop_permission__"


async def _principal_from_api_key(request: Request, key: str) -> Principal | None:
    db = get_db(request)
    async with db.session(write=False) as session:
        api_key = await api_keys.find_active_key(session, key)
        if api_key is None:
            return None
        role = await api_keys.acting_role(session, api_key, request.app.state.settings)
        principal = Principal("api_key", api_key.id, api_key.name, role)
        stale = api_key.last_used_at
    if stale is None or stale < utcnow() - api_keys.LAST_USED_RESOLUTION:
        await db.run(lambda s: api_keys.touch_last_used(s, principal.id))
    return principal


async def _principal_from_firebase(request: Request, token: str) -> Principal:
    from app.users.service import principal_for

    identity = await request.app.state.firebase.verify(token)
    return await principal_for(get_db(request), identity, request.app.state.settings)


async def get_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> Principal:
    token = bearer.credentials if bearer is not None else header_key
    async with failures_counted(request):
        if not token:
            raise Unauthorized("A bearer token or an API key is required")
        cache: CredentialCache = request.app.state.credentials
        principal: Principal | None = cache.get(token)
        if principal is None:
            generation = cache.generation
            if api_keys.looks_like_api_key(token):
                principal = await _principal_from_api_key(request, token)
            elif request.app.state.firebase is not None:
                principal = await _principal_from_firebase(request, token)
            if principal is None:
                raise Unauthorized("The credential is invalid, expired or revoked")
            cache.put(token, principal, generation)
    request.state.principal = principal.label
    audit.act_as(principal.kind, principal.id, principal.name)
    return principal


FAILED_SIGN_INS = "failed sign-ins from this address"


@asynccontextmanager
async def failures_counted(request: Request) -> AsyncIterator[None]:
    """Verify a credential within the client IP's budget of failures (RATE_LIMIT_AUTH).

    The budget is looked at before anything is verified, a cached credential included: once it
    is spent the answer is 429 even for a valid key, so a key found by guessing is no use from
    that address until the window ends. Every failed verification spends one."""
    limiter = request.app.state.rate_limiter
    address = f"ip:{client_ip(request)}"
    # Until a credential is verified, the address's budget is the request's (its headers).
    request.state.rate_limit = await limiter.check("auth", address, FAILED_SIGN_INS)
    try:
        yield
    except Unauthorized:
        request.state.rate_limit = await limiter.hit("auth", address, FAILED_SIGN_INS)
        raise


def client_ip(request: Request) -> str:
    """The peer's address; X-Forwarded-For is applied upstream for TRUSTED_PROXIES only."""
    return request.client.host if request.client else "unknown"


async def spend(request: Request, principal: Principal) -> None:
    """Once the caller is allowed: spend its rate budget, then claim its Idempotency-Key (a
    POST that sends one; app/core/idempotency.py) before the route does any work."""
    category = transport(request.scope)
    request.state.rate_limit = await request.app.state.rate_limiter.hit(category, principal.label)
    if request.method == "POST":
        await idempotency.claim(request, principal.label)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def _forget_credentials(request: Request, tasks: BackgroundTasks) -> None:
    """Routes that change who may do what (a user's role or state, a key's revocation) drop
    this worker's verified credentials. A background task runs after the response, so after
    the request's session has committed: clearing before the commit would let a request under
    way read the old rows and put them back for AUTH_CACHE_SECONDS."""
    tasks.add_task(request.app.state.credentials.clear)


FORGET_CREDENTIALS = Depends(_forget_credentials)


_NO_ROLE = {
    "user": "This account is waiting for an administrator to grant it a role (pending); "
    "until then it may only read GET /api/v1/auth/me",
    "api_key": "This API key has no role: the user who created it has none now",
}


def require(permission: Permission) -> Any:
    """A dependency that lets the call through only when the caller's role has `permission`."""

    async def check(request: Request, principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            # Refused calls spend nothing; the response still shows the caller's budget.
            limiter = request.app.state.rate_limiter
            category = transport(request.scope)
            request.state.rate_limit = await limiter.peek(category, principal.label)
            raise Forbidden(
                _NO_ROLE[principal.kind]
                if principal.role is None
                else f"Role '{principal.role}' lacks the permission '{permission}'",
                extra={"required_permission": permission.value},
            )
        await spend(request, principal)
        return principal

    setattr(check, PERMISSION_ATTR, permission)
    return Depends(check)


def public(func: Any) -> Any:
    """Mark a route as deliberately open (health probes): the route-walk test accepts it."""
    setattr(func, PERMISSION_ATTR, None)
    return func


# The permission dependencies the resource routers use.
CanRead = Annotated[Principal, require(Permission.read)]
CanWrite = Annotated[Principal, require(Permission.resource_write)]
CanProgressWorkOrders = Annotated[Principal, require(Permission.work_order_progress)]
CanWriteInspections = Annotated[Principal, require(Permission.inspection_write)]
CanAdjustStock = Annotated[Principal, require(Permission.stock_adjust)]
CanUpload = Annotated[Principal, require(Permission.import_upload)]
CanAttach = Annotated[Principal, require(Permission.attachment_upload)]
CanManageImports = Annotated[Principal, require(Permission.import_manage)]
CanManageUsers = Annotated[Principal, require(Permission.user_admin)]
CanReadAudit = Annotated[Principal, require(Permission.audit_read)]
CanManageWebhooks = Annotated[Principal, require(Permission.webhook_manage)]


async def firebase_user(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    body: Annotated[VerifyRequest | None, Body()] = None,
) -> Principal:
    """The Firebase user of the ID token in the body, or else of the bearer credential."""
    token = (body.id_token if body else None) or (bearer.credentials if bearer else None)
    async with failures_counted(request):
        if not token:
            raise Unauthorized("A Firebase ID token is required")
        if api_keys.looks_like_api_key(token):
            raise Unauthorized("An API key is not a Firebase sign-in; send a Firebase ID token")
        if request.app.state.firebase is None:
            raise Unauthorized(
                "Firebase sign-in is not configured on this server (FIREBASE_PROJECT_ID)"
            )
        principal = await _principal_from_firebase(request, token)
    request.state.principal = principal.label
    audit.act_as(principal.kind, principal.id, principal.name)
    await spend(request, principal)
    return principal


setattr(firebase_user, PERMISSION_ATTR, Permission.me)
