from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, UTCDateTime, utcnow


class Deletion(Base):
    """A row of a listed resource that was deleted, for the clients that keep a copy: the
    deletions feed (`GET /deletions`) tells them what to drop. Written in the deleting
    transaction (app/core/deletions.py), kept DELETIONS_KEEP_DAYS, then pruned (ADR 0034).
    Indexed for the feed's order, `(deleted_at, id)`, with and without its resource filter."""

    __tablename__ = "deletions"
    __table_args__ = (
        Index("ix_deletions_deleted_at_id", "deleted_at", "id"),
        Index("ix_deletions_resource_deleted_at_id", "resource", "deleted_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resource: Mapped[str] = mapped_column(String(50))  # the URL's name: machines, workorders
    resource_id: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
