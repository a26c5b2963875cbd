"""API keys: `wk_` + 43 url-safe characters (256 bits); the database keeps its SHA-256 only.

Lookup is by hash, so a stolen database gives no usable key, and a key is shown exactly once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.core.errors import Conflict, NotFound
from app.models import ApiKey
from app.models.base import utcnow

KEY_PREFIX = "wk_"
# last_used_at is a hint for admins, not an audit log: refresh it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


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


async def revoke_api_key(session: AsyncSession, key_id: int) -> ApiKey:
    api_key = await get_api_key(session, key_id)
    if api_key.revoked_at is not None:
        raise Conflict(f"API key {key_id} is already revoked")
    api_key.revoked_at = utcnow()
    await session.flush()
    return api_key


async def has_active_admin_key(session: AsyncSession) -> bool:
    stmt = select(ApiKey.id).where(
        ApiKey.role == Role.admin,
        ApiKey.revoked_at.is_(None),
        (ApiKey.expires_at.is_(None)) | (ApiKey.expires_at > utcnow()),
    )
    return (await session.scalar(stmt.limit(1))) is not None


async def find_active_key(session: AsyncSession, key: str) -> ApiKey | None:
    api_key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if api_key is None or api_key.revoked_at is not None:
        return None
    if api_key.expires_at is not None and api_key.expires_at <= utcnow():
        return None
    return api_key


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
