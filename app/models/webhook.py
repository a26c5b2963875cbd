"""Webhook subscriptions and their deliveries (app/webhooks, ADR 0037)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, Resource, TimestampMixin, UTCDateTime
from app.models.types import Json, enum_column


class WebhookSubscription(Resource):
    """A URL that is told of the events it subscribed to, each delivery signed with `secret`."""

    __tablename__ = "webhook_subscriptions"
    __label__ = "Webhook"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(Json, default=list)
    # Kept as given: signing needs the secret itself, not a hash of it. Never returned after
    # creation; the audit trail skips it (its name says secret).
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    # The subscription ALERT_WEBHOOK_URL stands for: kept in step with the setting, read-only
    # through the API.
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its (next) attempt
    sending = "sending"  # claimed by a sender until `claimed_until`
    delivered = "delivered"
    failed = "failed"  # WEBHOOK_MAX_ATTEMPTS spent (or refused: the address is not public)


class WebhookDelivery(TimestampMixin, Base):
    """One event for one subscription. (subscription_id, event_key) is unique: however many
    processes notice the same fact, one row is inserted and one delivery is made."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_key", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, sort_order=-100)
    subscription_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(String(50))
    event_key: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[DeliveryStatus] = enum_column(DeliveryStatus, default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Every attempt: {at, status_code, error, duration_ms}.
    log: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
