from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, field_validator

from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ReadModel, ResourceRead, partial
from app.models import DeliveryStatus
from app.webhooks.events import EventType


class WebhookCreate(InputModel):
    name: str = Field(min_length=1, max_length=200, examples=["Quality office"])
    url: str = Field(
        min_length=1,
        max_length=2000,
        examples=["https://hooks.example.com/workshop"],
        description="http or https; its host must resolve to public addresses only, unless "
        "WEBHOOK_ALLOW_PRIVATE",
    )
    events: list[EventType] = Field(
        min_length=1, max_length=len(EventType), description="The events to deliver here"
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="Write-only: the key deliveries are signed with. Left out at creation, "
        "one is made and returned once, in the creation's response; never returned after. "
        "Left out in PUT or PATCH: the current one stays",
    )
    active: bool = True

    @field_validator("events")
    @classmethod
    def _distinct(cls, events: list[EventType]) -> list[EventType]:
        return list(dict.fromkeys(events))


WebhookUpdate = partial(WebhookCreate, "WebhookUpdate")


class WebhookRead(ResourceRead):
    name: str
    url: str
    events: list[str]
    active: bool
    builtin: bool = Field(description="The subscription ALERT_WEBHOOK_URL stands for: read-only")


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Shown this once: keep it to verify the signatures")


class WebhookQuery(ListQuery):
    sort_by: Literal["id", "name", "created_at", "updated_at"] = "id"
    active: bool | None = None
    q: str | None = Field(default=None, description="Contains, in name or URL (any case)")


class Attempt(ReadModel):
    at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryRead(ReadModel):
    id: int
    subscription_id: int
    event: str
    event_key: str
    event_id: str = Field(description="Sent as `Webhook-Id` and as the body's `id`")
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    payload: dict[str, Any]
    log: list[Attempt] = Field(description="Every attempt, oldest first")


class DeliveryQuery(ListQuery):
    sort_by: Literal["id", "created_at", "next_attempt_at"] = "id"
    order: Literal["asc", "desc"] = "desc"
    status: DeliveryStatus | None = None
    event: EventType | None = None


class EventRead(ReadModel):
    type: EventType
    description: str
