"""Webhook subscriptions: admin-managed, their URL checked (app/webhooks/security.py), their
secret write-only; the built-in one that ALERT_WEBHOOK_URL stands for; test deliveries."""

from __future__ import annotations

import secrets
import uuid

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.core import crud
from app.core.config import Settings, url_origin
from app.core.db import Database
from app.core.errors import Conflict, field_error, invalid_fields
from app.core.logger import get_logger
from app.core.pagination import Page, contains_any, eq, page_of, paginate, where
from app.models import WebhookDelivery, WebhookSubscription
from app.webhooks import security, sender
from app.webhooks.events import EventType, delivery_row
from app.webhooks.schemas import (
    DeliveryQuery,
    DeliveryRead,
    WebhookCreate,
    WebhookQuery,
    WebhookRead,
)

log = get_logger(__name__)
BUILTIN_NAME = "ALERT_WEBHOOK_URL"
BUILTIN_EVENTS = [EventType.import_failed.value, EventType.schedule_failed.value]


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


async def checked_url(url: str, settings: Settings) -> str:
    """422 naming `url` unless it may receive webhooks (resolved now, and at each delivery)."""
    try:
        await security.check(url, settings)
    except security.UrlRefused as exc:
        raise invalid_fields([field_error("url", str(exc), "url_not_allowed")]) from None
    return url


async def list_webhooks(session: AsyncSession, query: WebhookQuery) -> Page[WebhookRead]:
    W = WebhookSubscription
    stmt = select(W).where(*where(eq(W.active, query.active), contains_any(query.q, W.name, W.url)))
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(W, query.sort_by), tiebreak=W.id
    )
    return page_of([WebhookRead.model_validate(r) for r in rows], counted, query)


async def create_webhook(
    session: AsyncSession, settings: Settings, body: WebhookCreate
) -> tuple[WebhookSubscription, str]:
    """The subscription and its secret (made here when none was given)."""
    await checked_url(body.url, settings)
    secret = body.secret or new_secret()
    return await crud.create(session, WebhookSubscription, body, secret=secret), secret


async def _editable(
    session: AsyncSession, webhook_id: int, if_match: str | None
) -> WebhookSubscription:
    sub = await crud.get_for_write(session, WebhookSubscription, webhook_id, if_match)
    if sub.builtin:
        raise Conflict(
            f"Webhook {webhook_id} stands for the ALERT_WEBHOOK_URL setting; change the "
            "setting (and ALERT_WEBHOOK_SECRET) instead"
        )
    return sub


async def replace_webhook(
    session: AsyncSession,
    settings: Settings,
    webhook_id: int,
    body: WebhookCreate,
    if_match: str | None,
) -> WebhookSubscription:
    """Replace; a secret left out stays as it is."""
    sub = await _editable(session, webhook_id, if_match)
    if body.url != sub.url:
        await checked_url(body.url, settings)
    return await crud.update(session, sub, body, secret=body.secret or sub.secret)


async def patch_webhook(
    session: AsyncSession,
    settings: Settings,
    webhook_id: int,
    patch: BaseModel,
    if_match: str | None,
) -> WebhookSubscription:
    sub = await _editable(session, webhook_id, if_match)
    merged = crud.merge(WebhookCreate, sub, patch)
    if merged.url != sub.url:
        await checked_url(merged.url, settings)
    return await crud.update(session, sub, merged)


async def delete_webhook(session: AsyncSession, webhook_id: int, if_match: str | None) -> None:
    """Delete a subscription with its deliveries."""
    await crud.remove(session, await _editable(session, webhook_id, if_match))


async def list_deliveries(
    session: AsyncSession, webhook_id: int, query: DeliveryQuery
) -> Page[DeliveryRead]:
    await crud.get(session, WebhookSubscription, webhook_id)
    D = WebhookDelivery
    stmt = select(D).where(
        D.subscription_id == webhook_id,
        *where(eq(D.status, query.status), eq(D.event, query.event)),
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(D, query.sort_by), tiebreak=D.id
    )
    return page_of([DeliveryRead.model_validate(r) for r in rows], counted, query)


async def ping(db: Database, settings: Settings, webhook_id: int) -> DeliveryRead:
    """A `ping` delivery to the subscription, attempted at once (whether or not the
    subscription is active or subscribed to `ping`); retried like any other if it fails."""

    async def record(session: AsyncSession) -> int:
        await crud.get(session, WebhookSubscription, webhook_id)
        row = delivery_row(
            webhook_id, EventType.ping, str(uuid.uuid4()), {"webhook_id": webhook_id}
        )
        delivery = WebhookDelivery(**row)
        session.add(delivery)
        await session.flush()
        return delivery.id

    delivery_id = await db.run(record)
    if await sender.claim(db, delivery_id, settings):
        await sender.attempt(db, settings, delivery_id, force=True)
    delivery = await db.run(lambda s: s.get(WebhookDelivery, delivery_id), write=False)
    return DeliveryRead.model_validate(delivery)


async def sync_builtin(db: Database, settings: Settings) -> None:
    """Keep the built-in subscription in step with ALERT_WEBHOOK_URL (and ALERT_WEBHOOK_SECRET):
    made or updated when the setting is there, deactivated when it is gone. Several processes
    may do this at once: the name is unique, and the loser's write is dropped."""
    url = settings.alert_webhook_url
    secret = (
        settings.alert_webhook_secret.get_secret_value() if settings.alert_webhook_secret else ""
    )

    async def work(session: AsyncSession) -> None:
        W = WebhookSubscription
        sub = await session.scalar(select(W).where(W.builtin.is_(True)).limit(1))
        if url is None:
            if sub is not None and sub.active:
                sub.active = False
            return
        values = {"url": url, "events": BUILTIN_EVENTS, "secret": secret, "active": True}
        if sub is None:
            session.add(W(name=BUILTIN_NAME, builtin=True, **values))
        else:
            for key, value in values.items():
                if getattr(sub, key) != value:
                    setattr(sub, key, value)

    try:
        await db.run(work)
    except (IntegrityError, StaleDataError) as exc:  # another process did it first
        log.info(
            "alert_webhook_sync_skipped",
            url=url_origin(url) if url else None,
            reason=str(type(exc).__name__),
        )
