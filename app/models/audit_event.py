from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, UTCDateTime, utcnow
from app.models.types import Json, enum_column


class AuditAction(StrEnum):
    create = "create"
    update = "update"
    delete = "delete"


class AuditEvent(Base):
    """One change of one resource, written in the transaction that made it (app/core/audit.py);
    never edited or deleted by the API. Indexed for the list's filters, each ending in `id` so a
    filtered keyset page is one index range."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_resource_resource_id_id", "resource", "resource_id", "id"),
        Index("ix_audit_events_resource_by_id", "resource", "id"),
        Index("ix_audit_events_actor_name_id", "actor_name", "id"),
        Index("ix_audit_events_actor_kind_actor_id_id", "actor_kind", "actor_id", "id"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(10))  # user, api_key, system
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str | None] = mapped_column(String(320))
    action: Mapped[AuditAction] = enum_column(AuditAction)
    resource: Mapped[str] = mapped_column(String(50))  # the URL's name: machines, workorders
    resource_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)  # {field: [old, new]}
    request_id: Mapped[str | None] = mapped_column(String(200))
