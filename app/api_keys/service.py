"""API keys: `wk_` + 43 url-safe characters (256 bits); the database keeps its SHA-256 only.

Lookup is by hash, so a stolen database gives no usable key, and a key is shown exactly once.

A key never acts above the one who created it, as they are now: its role in force is the lowest
of its own role and its creator's current role (`acting_role`). A key made by a signed-in user
follows that user's role (app/auth/grants.py) and stops when the user is deactivated; a key made
by another key follows that key's role in force, up the chain, and stops when it is revoked or
expires. A key made with the CLI has no creator: whoever runs the CLI runs the server, so its
own role is its only limit. Revoking a key or deactivating a user also revokes every key made
from it, so the list shows what still works.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.grants import standing
from app.auth.roles import Role, lowest
from app.core import audit
from app.core.config import Settings
from app.core.errors import Conflict, NotFound, Unauthorized
from app.models import ApiKey, User
from app.models.base import utcnow

KEY_PREFIX = "wk_"
# last_used_at is a hint for admins, not an audit log: refresh it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Keys are made by keys only a few levels deep; a longer chain is refused, not walked forever.
MAX_CHAIN = 16


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


async def create_api_key(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    expires_at: datetime | None = None,
    created_by_id: int | None = None,
    created_by_key_id: int | None = None,
) -> tuple[ApiKey, str]:
    """Make a key; return the row and the plaintext key, which is never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(
        name=name,
        prefix=key[:11],
        key_hash=hash_key(key),
        role=role,
        expires_at=expires_at,
        created_by_id=created_by_id,
        created_by_key_id=created_by_key_id,
    )
    session.add(api_key)
    await session.flush()
    return api_key, key


async def list_api_keys(session: AsyncSession, *, include_revoked: bool) -> Sequence[ApiKey]:
    stmt = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return (await session.scalars(stmt)).all()


async def get_api_key(session: AsyncSession, key_id: int) -> ApiKey:
    api_key = await session.get(ApiKey, key_id)
    if api_key is None:
        raise NotFound(f"API key {key_id} does not exist")
    return api_key


async def revoke_api_key(session: AsyncSession, key_id: int) -> int:
    """Revoke the key and the keys made from it; how many of those were revoked with it."""
    api_key = await get_api_key(session, key_id)
    if api_key.revoked_at is not None:
        raise Conflict(f"API key {key_id} is already revoked")
    api_key.revoked_at = utcnow()
    await session.flush()
    return await revoke_made_by(session, key_id=key_id)


async def revoke_made_by(
    session: AsyncSession, *, user_id: int | None = None, key_id: int | None = None
) -> int:
    """Revoke the keys a user (or a key) created, the keys those created, and so on."""
    made_by = (
        ApiKey.created_by_id == user_id
        if user_id is not None
        else (ApiKey.created_by_key_id == key_id)
    )
    now, revoked, seen = utcnow(), 0, set[int]()
    level = set((await session.scalars(select(ApiKey.id).where(made_by))).all())
    while level:
        seen |= level
        active = (ApiKey.id.in_(level), ApiKey.revoked_at.is_(None))
        for key_id_ in (await session.scalars(select(ApiKey.id).where(*active))).all():
            audit.record(session, "update", "api-keys", key_id_, {"revoked_at": (None, now)})
        result = await session.execute(
            update(ApiKey)
            .where(*active)
            .values(revoked_at=now, version=ApiKey.version + 1)
            .execution_options(synchronize_session=False)
        )
        revoked += result.rowcount  # type: ignore[attr-defined]
        made = select(ApiKey.id).where(ApiKey.created_by_key_id.in_(level))
        level = set((await session.scalars(made)).all()) - seen
    return revoked


async def has_active_admin_key(session: AsyncSession) -> bool:
    stmt = select(ApiKey.id).where(
        ApiKey.role == Role.admin,
        ApiKey.revoked_at.is_(None),
        (ApiKey.expires_at.is_(None)) | (ApiKey.expires_at > utcnow()),
    )
    return (await session.scalar(stmt.limit(1))) is not None


async def find_active_key(session: AsyncSession, key: str) -> ApiKey | None:
    api_key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    return api_key if api_key is not None and usable(api_key) else None


def usable(api_key: ApiKey) -> bool:
    if api_key.revoked_at is not None:
        return False
    return api_key.expires_at is None or api_key.expires_at > utcnow()


async def acting_role(session: AsyncSession, api_key: ApiKey, settings: Settings) -> Role | None:
    """The role the key acts with: its own, capped by its creator's current role, up the chain
    of keys that made keys. None: the creator has no role (pending). Unauthorized when a user
    up the chain is deactivated or a key up the chain is revoked or expired."""
    role: Role | None = api_key.role
    key = api_key
    for _ in range(MAX_CHAIN):
        if key.created_by_id is not None:
            user = await session.get(User, key.created_by_id)
            if user is None or not user.active:
                raise Unauthorized("The user who created this API key is deactivated")
            return lowest(role, standing(user, settings).role)
        if key.created_by_key_id is None:
            return role  # made with the CLI
        creator = await session.get(ApiKey, key.created_by_key_id)
        if creator is None or not usable(creator):
            raise Unauthorized("The API key that created this one is revoked or expired")
        role, key = lowest(role, creator.role), creator
    raise Unauthorized("This API key was made by a chain of keys too long to follow")


async def touch_last_used(session: AsyncSession, key_id: int) -> None:
    """Set last_used_at unless it was set within LAST_USED_RESOLUTION (one cheap UPDATE)."""
    now = utcnow()
    await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < now - LAST_USED_RESOLUTION))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
