from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from app.auth.roles import Role, RoleSource, UserRole
from app.models.base import Resource, UTCDateTime
from app.models.types import enum_column


class User(Resource):
    """A person who signs in with Firebase; created locally on first sight, pending until a
    role is granted (app/auth/grants.py)."""

    __tablename__ = "users"

    firebase_uid: Mapped[str] = mapped_column(String(128), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    # The role in force and what gave it, as of the user's last verification (or an admin's
    # change): what admins see in the list.
    role: Mapped[UserRole] = enum_column(UserRole, default=UserRole.pending)
    role_source: Mapped[RoleSource] = enum_column(RoleSource, default=RoleSource.none)
    # The role an admin last set: kept while a list or a claim gives another one, and fallen
    # back to when they stop.
    assigned_role: Mapped[Role | None] = enum_column(Role)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
