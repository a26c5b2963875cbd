"""People who sign in with Firebase, and their roles.

A user is created on first sight. The role in force is, in this order: `admin` for a verified
email in ADMIN_EMAILS; the token's `role` custom claim when it names a role; the stored role
(which admins set with PATCH /users/{id}); `viewer` for a new user. The stored row follows the
role in force, so admins see what each person can do. A role change applies on the next
request; a deactivated user (`active=false`) is refused (401).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.firebase import FirebaseIdentity
from app.auth.principal import Principal
from app.auth.roles import Role
from app.core import crud
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import Unauthorized
from app.core.pagination import Page, contains_any, eq, page_of, paginate, where
from app.models import User
from app.models.base import utcnow
from app.users.schemas import UserQuery, UserRead

LOGIN_RESOLUTION = timedelta(minutes=5)


def role_in_force(identity: FirebaseIdentity, stored: Role | None, settings: Settings) -> Role:
    admins = {email.lower() for email in settings.admin_emails}
    if identity.email and identity.email_verified and identity.email.lower() in admins:
        return Role.admin
    if identity.role_claim is not None and identity.role_claim in Role.__members__:
        return Role(identity.role_claim)
    return stored or Role.viewer


async def principal_for(db: Database, identity: FirebaseIdentity, settings: Settings) -> Principal:
    """The signed-in user as a principal, creating or refreshing their row as needed."""
    async with db.session(write=False) as session:
        user = await session.scalar(select(User).where(User.firebase_uid == identity.uid))
    role = role_in_force(identity, user.role if user else None, settings)
    stale = user is None or (
        user.role != role
        or user.email != identity.email
        or user.last_login_at is None
        or user.last_login_at < utcnow() - LOGIN_RESOLUTION
    )
    if stale:
        user = await _upsert(db, identity, role)
    assert user is not None
    if not user.active:
        raise Unauthorized("This user is deactivated; ask an administrator")
    return Principal("user", user.id, user.email or user.display_name or identity.uid, role)


async def _upsert(db: Database, identity: FirebaseIdentity, role: Role) -> User:
    async def work(session: AsyncSession) -> User:
        user = await session.scalar(select(User).where(User.firebase_uid == identity.uid))
        if user is None:
            user = User(firebase_uid=identity.uid, role=role, active=True)
            session.add(user)
        user.email, user.display_name = identity.email, identity.name or user.display_name
        user.role, user.last_login_at = role, utcnow()
        await session.flush()
        return user

    try:
        return await db.run(work)
    except IntegrityError:  # created by a concurrent first request: update that row instead
        return await db.run(work)


async def list_users(session: AsyncSession, query: UserQuery) -> Page[UserRead]:
    stmt = select(User).where(
        *where(
            eq(User.role, query.role),
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
