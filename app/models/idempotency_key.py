from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, UTCDateTime, utcnow
from app.models.types import OptionalJson

# MariaDB's BLOB holds 64 KiB; a kept answer may be larger.
Answer = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql")


class IdempotencyKey(Base):
    """One `Idempotency-Key` of one caller: claimed by inserting this row (the unique
    constraint decides between two requests that race), then holding the answer that a retry
    replays until `expires_at` (app/core/idempotency.py, ADR 0035). Not a resource: the API
    never lists it, and the audit trail does not follow it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("principal", "key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    principal: Mapped[str] = mapped_column(String(64))  # user:5, api_key:3
    key: Mapped[str] = mapped_column(String(255))
    request: Mapped[str] = mapped_column(String(1000))  # "POST /api/v1/machines"
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the request, hex
    # The request's own transaction set it, with its work: the work is in the database.
    committed: Mapped[bool] = mapped_column(Boolean, default=False)
    status_code: Mapped[int | None] = mapped_column(Integer)  # None: still running
    headers: Mapped[list[Any] | None] = mapped_column(OptionalJson)
    body: Mapped[bytes | None] = mapped_column(Answer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
