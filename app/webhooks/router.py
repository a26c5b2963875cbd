"""Webhook subscriptions (admin only): where events are delivered, and what became of each."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from app.auth.deps import CanManageWebhooks
from app.core import crud
from app.core.db import DatabaseDep, SessionDep
from app.core.http import IfMatch, Router, SettingsDep, created, with_etag
from app.core.idempotency import NO_REPLAY
from app.core.openapi import errors
from app.core.pagination import Page
from app.models import WebhookSubscription
from app.webhooks import service
from app.webhooks.events import CATALOGUE
from app.webhooks.schemas import (
    DeliveryQuery,
    DeliveryRead,
    EventRead,
    WebhookCreate,
    WebhookCreated,
    WebhookQuery,
    WebhookRead,
    WebhookUpdate,
)

router = Router(prefix="/webhooks", tags=["webhooks"])


@router.get("", response_model=Page[WebhookRead], responses=errors(401, 403, 422))
async def list_webhooks(
    query: Annotated[WebhookQuery, Query()], session: SessionDep, _: CanManageWebhooks
) -> Page[WebhookRead]:
    """List webhook subscriptions (never their secrets); filter by `active` or text."""
    return await service.list_webhooks(session, query)


@router.get("/events", response_model=list[EventRead], responses=errors(401, 403))
async def list_events(_: CanManageWebhooks) -> list[EventRead]:
    """The catalogue of events a subscription may name (docs/Webhooks.md has their payloads)."""
    return [EventRead(type=event, description=text) for event, text in CATALOGUE.items()]


@router.get("/{webhook_id:int}", response_model=WebhookRead, responses=errors(401, 403, 404))
async def get_webhook(
    webhook_id: int, session: SessionDep, response: Response, _: CanManageWebhooks
) -> WebhookRead:
    """One subscription, with its `ETag` (its secret is never shown again)."""
    sub = await crud.get(session, WebhookSubscription, webhook_id)
    return with_etag(response, WebhookRead.model_validate(sub))


@router.post(
    "",
    response_model=WebhookCreated,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 409, 422),
    dependencies=[NO_REPLAY],  # its answer holds the secret: never stored for a replay
)
async def create_webhook(
    body: WebhookCreate,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    _: CanManageWebhooks,
) -> WebhookCreated:
    """Subscribe a URL to events. The URL must be http(s) and its host resolve to public
    addresses only (422 otherwise, unless WEBHOOK_ALLOW_PRIVATE). The response carries the
    signing `secret` (the one sent, or a new one): the only time it is shown. `name` is
    unique (409)."""
    sub, secret = await service.create_webhook(session, settings, body)
    read = WebhookCreated.model_validate(
        {**WebhookRead.model_validate(sub).model_dump(), "secret": secret}
    )
    return created(request, response, "get_webhook", read, webhook_id=sub.id)


@router.put(
    "/{webhook_id:int}",
    response_model=WebhookRead,
    responses=errors(401, 403, 404, 409, 412, 422),
)
async def replace_webhook(
    webhook_id: int,
    body: WebhookCreate,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    _: CanManageWebhooks,
    if_match: IfMatch = None,
) -> WebhookRead:
    """Replace a subscription; a `secret` left out stays. The built-in subscription
    (ALERT_WEBHOOK_URL) is changed through its setting: 409."""
    sub = await service.replace_webhook(session, settings, webhook_id, body, if_match)
    return with_etag(response, WebhookRead.model_validate(sub))


@router.patch(
    "/{webhook_id:int}",
    response_model=WebhookRead,
    responses=errors(401, 403, 404, 409, 412, 422),
)
async def patch_webhook(
    webhook_id: int,
    body: WebhookUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    _: CanManageWebhooks,
    if_match: IfMatch = None,
) -> WebhookRead:
    """Change only the fields sent (`active: false` pauses deliveries; `secret` rotates it)."""
    sub = await service.patch_webhook(session, settings, webhook_id, body, if_match)
    return with_etag(response, WebhookRead.model_validate(sub))


@router.delete(
    "/{webhook_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409, 412),
)
async def delete_webhook(
    webhook_id: int, session: SessionDep, _: CanManageWebhooks, if_match: IfMatch = None
) -> None:
    """Delete a subscription and its deliveries (409 for the built-in one)."""
    await service.delete_webhook(session, webhook_id, if_match)


@router.get(
    "/{webhook_id:int}/deliveries",
    response_model=Page[DeliveryRead],
    responses=errors(401, 403, 404, 422),
)
async def list_deliveries(
    webhook_id: int,
    query: Annotated[DeliveryQuery, Query()],
    session: SessionDep,
    _: CanManageWebhooks,
) -> Page[DeliveryRead]:
    """The subscription's deliveries, newest first, each with every attempt (time, status
    code, error, duration); filter by `status` or `event`."""
    return await service.list_deliveries(session, webhook_id, query)


@router.post(
    "/{webhook_id:int}/ping",
    response_model=DeliveryRead,
    responses=errors(401, 403, 404),
)
async def ping_webhook(
    webhook_id: int, db: DatabaseDep, settings: SettingsDep, _: CanManageWebhooks
) -> DeliveryRead:
    """Send a signed `ping` event now and answer with its delivery (`delivered`, or `pending`
    with the attempt's error, retried as any delivery is). Works on an inactive subscription,
    to test it before switching it on."""
    return await service.ping(db, settings, webhook_id)
