"""People who sign in with Firebase, and their roles.

A user is created on first sight, pending (no access) unless a list, a claim or their email's
domain gives them a role; app/auth/grants.py decides which role is in force and what gave it.
The stored row follows the role in force and its source, so admins see what each person can do
and why. A role change applies on the next request; a deactivated user (`active=false`) is
refused (401).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys import service as api_keys
from app.auth.firebase import FirebaseIdentity
from app.auth.grants import Grant, decide, standing
from app.auth.principal import Principal
from app.auth.roles import Role, granted, shown
from app.core import audit, crud
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import Unauthorized
from app.core.pagination import Page, contains_any, eq, page_of, paginate, where
from app.models import User
from app.models.base import utcnow
from app.users.schemas import UserQuery, UserRead

LOGIN_RESOLUTION = timedelta(minutes=5)
SIGN_IN = audit.Actor("system", None, "sign-in")


def grant_for(identity: FirebaseIdentity, assigned: Role | None, settings: Settings) -> Grant:
    return decide(
        email=identity.email,
        email_verified=identity.email_verified,
        claim=identity.role_claim,
        assigned=assigned,
        settings=settings,
    )


async def principal_for(db: Database, identity: FirebaseIdentity, settings: Settings) -> Principal:
    """The signed-in user as a principal, creating or refreshing their row as needed."""
    async with db.session(write=False) as session:
        user = await session.scalar(select(User).where(User.firebase_uid == identity.uid))
    grant = grant_for(identity, user.assigned_role if user else None, settings)
    stale = user is None or (
        (user.role, user.role_source) != (shown(grant.role), grant.source)
        or user.email != identity.email
        or user.last_login_at is None
        or user.last_login_at < utcnow() - LOGIN_RESOLUTION
    )
    if stale:
        user, grant = await _upsert(db, identity, settings)
    assert user is not None
    if not user.active:
        raise Unauthorized("This user is deactivated; ask an administrator")
    return Principal("user", user.id, user.email or user.display_name or identity.uid, grant.role)


async def _upsert(
    db: Database, identity: FirebaseIdentity, settings: Settings
) -> tuple[User, Grant]:
    async def work(session: AsyncSession) -> tuple[User, Grant]:
        user = await session.scalar(select(User).where(User.firebase_uid == identity.uid))
        if user is None:
            user = User(firebase_uid=identity.uid, active=True)
            session.add(user)
        # Decided again on the row read here: an admin may have set a role meanwhile.
        grant = grant_for(identity, user.assigned_role, settings)
        user.email, user.display_name = identity.email, identity.name or user.display_name
        user.role, user.role_source = shown(grant.role), grant.source
        user.last_login_at = utcnow()
        await session.flush()
        return user, grant

    # The row follows what the token and the lists say: the service decides, not a caller.
    with audit.acting(SIGN_IN):
        try:
            return await db.run(work)
        except IntegrityError:  # created by a concurrent first request: update that row instead
            return await db.run(work)


async def update_user(
    session: AsyncSession,
    user_id: int,
    patch: BaseModel,
    if_match: str | None,
    settings: Settings,
) -> User:
    """An admin's change. `role` is the admin's grant, which a role from ADMIN_EMAILS or a
    claim outranks while they last; the user's API keys follow the role in force. `active=false`
    shuts the user out and revokes the keys they created (reactivating does not bring those
    back)."""
    user = await crud.get_for_write(session, User, user_id, if_match)
    changes = patch.model_dump(exclude_unset=True)
    if "role" in changes:
        user.assigned_role = granted(changes["role"])
    if "active" in changes:
        if user.active and not changes["active"]:
            await api_keys.revoke_made_by(session, user_id=user.id)
        user.active = changes["active"]
    grant = standing(user, settings)
    user.role, user.role_source = shown(grant.role), grant.source
    await session.flush()
    return user


async def list_users(session: AsyncSession, query: UserQuery) -> Page[UserRead]:
    stmt = select(User).where(
        *where(
            eq(User.role, query.role),
            eq(User.role_source, query.role_source),
            eq(User.active, query.active),
            contains_any(query.q, User.email, User.display_name),
        )
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(User, query.sort_by), tiebreak=User.id
    )
    return page_of([UserRead.model_validate(r) for r in rows], counted, query)


async def signed_in_user(db: Database, user_id: int) -> User:
    """Read on a read-only session: the caller (POST /auth/verify) writes nothing, and a
    writing session would take SQLite's write lock for this read."""
    async with db.session(write=False) as session:
        return await crud.get(session, User, user_id)
