"""Delivering what `emit` recorded: claim, send, record the attempt, retry or give up.

Any number of processes run the sender (every scheduler does). A delivery is claimed by one
conditional UPDATE (pending and due, or `sending` with its lease run out because its sender
died) that only one process can win on any database, SQLite included; the winner holds it for
WEBHOOK_TIMEOUT_SECONDS + a margin. A 2xx delivers it; anything else (another status, a
timeout, a refused connection) is retried after WEBHOOK_RETRY_BASE_SECONDS * 2^(attempt-1),
capped at WEBHOOK_RETRY_MAX_SECONDS, until WEBHOOK_MAX_ATTEMPTS, then it is failed. A URL whose
host resolves to an address that is not public fails at once. Every attempt is kept on the
delivery (time, status code, error, duration).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import and_, or_, select, update

from app.core.config import Settings, app_version, redact_urls, url_origin
from app.core.db import Database
from app.core.logger import get_logger
from app.core.metrics import WEBHOOK_ATTEMPTS
from app.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from app.models.base import utcnow
from app.webhooks import security

log = get_logger(__name__)
WORKER = f"{socket.gethostname()}:{os.getpid()}"[:100]
BATCH = 50
PARALLEL = 8
D = WebhookDelivery


def _due(now: datetime) -> Any:
    return or_(
        and_(D.status == DeliveryStatus.pending, D.next_attempt_at <= now),
        and_(D.status == DeliveryStatus.sending, D.claimed_until < now),
    )


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before attempt `attempts + 1`."""
    delay = settings.webhook_retry_base_seconds * 2 ** max(attempts - 1, 0)
    return float(min(delay, settings.webhook_retry_max_seconds))


async def claim(db: Database, delivery_id: int, settings: Settings) -> bool:
    """Take the delivery for this process, if it is still due; False when another took it."""
    now = utcnow()
    longest = max(settings.webhook_timeout_seconds, settings.alert_timeout_seconds)
    lease = now + timedelta(seconds=longest + 30)
    statement = (
        update(D)
        .where(D.id == delivery_id, _due(now))
        .values(status=DeliveryStatus.sending, claimed_by=WORKER, claimed_until=lease)
    )
    result = await db.run(lambda s: s.execute(statement))
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


async def deliver_due(db: Database, settings: Settings, *, limit: int = BATCH) -> int:
    """Send the deliveries that are due (at most `limit`); returns how many this process sent."""
    now = utcnow()
    ids = list(
        await db.run(
            lambda s: s.scalars(
                select(D.id).where(_due(now)).order_by(D.next_attempt_at, D.id).limit(limit)
            ),
            write=False,
        )
    )
    if not ids:
        return 0
    gate = asyncio.Semaphore(PARALLEL)

    async def one(delivery_id: int) -> bool:
        async with gate:
            if not await claim(db, delivery_id, settings):
                return False
            await attempt(db, settings, delivery_id)
            return True

    return sum(await asyncio.gather(*(one(i) for i in ids)))


async def attempt(
    db: Database, settings: Settings, delivery_id: int, *, force: bool = False
) -> None:
    """One attempt at a delivery this process has claimed (`force`: even to an inactive
    subscription, for a ping)."""
    delivery, sub = await _load(db, delivery_id)
    if delivery is None:  # deleted with its subscription meanwhile
        return
    started = time.monotonic()
    at = utcnow()
    status_code: int | None = None
    error: str | None = None
    final = False
    if sub is None or not (sub.active or force):
        error, final = "the subscription is inactive", True
    else:
        try:
            status_code = await _send(settings, delivery, sub)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except security.UrlRefused as exc:
            error, final = f"refused: {exc}", exc.final
        except httpx.TimeoutException as exc:
            error = f"timeout: {type(exc).__name__}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {redact_urls(str(exc))}"[:500]
        except Exception as exc:  # an attempt never stays `sending`: counted, retried
            log.error("webhook_attempt_crashed", delivery_id=delivery_id, exc_info=exc)
            error = f"{type(exc).__name__}: {redact_urls(str(exc))}"[:500]
    duration_ms = round((time.monotonic() - started) * 1000, 1)
    entry: dict[str, Any] = {
        "at": at.isoformat(),
        "status_code": status_code,
        "error": error,
        "duration_ms": duration_ms,
    }
    attempts = delivery.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": status_code,
        "last_error": error[:1000] if error else None,
        "log": [*delivery.log, entry],
        "claimed_by": None,
        "claimed_until": None,
        "updated_at": utcnow(),
    }
    if error is None:
        values |= {"status": DeliveryStatus.delivered, "delivered_at": utcnow()}
    elif final or attempts >= settings.webhook_max_attempts:
        values["status"] = DeliveryStatus.failed
    else:
        values |= {
            "status": DeliveryStatus.pending,
            "next_attempt_at": utcnow() + timedelta(seconds=backoff(settings, attempts)),
        }
    statement = (
        update(D)
        .where(D.id == delivery_id, D.status == DeliveryStatus.sending, D.claimed_by == WORKER)
        .values(**values)
    )
    await db.run(lambda s: s.execute(statement), patience=30)
    outcome = {DeliveryStatus.delivered: "delivered", DeliveryStatus.failed: "failed"}
    WEBHOOK_ATTEMPTS.labels(outcome.get(values["status"], "retry")).inc()
    if error is not None:
        origin = url_origin(sub.url) if sub is not None else None
        level = log.error if values["status"] == DeliveryStatus.failed else log.warning
        level(
            "webhook_delivery_failed",
            delivery_id=delivery_id,
            event_type=delivery.event,
            url=origin,
            attempt=attempts,
            error=error,
            gave_up=values["status"] == DeliveryStatus.failed,
        )


async def _load(
    db: Database, delivery_id: int
) -> tuple[WebhookDelivery | None, WebhookSubscription | None]:
    async def read(session: Any) -> tuple[WebhookDelivery | None, WebhookSubscription | None]:
        delivery = await session.get(D, delivery_id)
        if delivery is None:
            return None, None
        return delivery, await session.get(WebhookSubscription, delivery.subscription_id)

    return await db.run(read, write=False)


# The event names ALERT_WEBHOOK_URL received before it became a subscription.
LEGACY = {"import.failed": "import_failed", "schedule.failed": "schedule_failed"}


def body_of(delivery: WebhookDelivery, sub: WebhookSubscription) -> bytes:
    """The envelope `{id, type, created_at, data}`. The built-in subscription gets the flat
    body ALERT_WEBHOOK_URL always had (`event` and the data's fields at the top), with `id`,
    `type` and `created_at` added, so receivers written for it keep working."""
    payload = delivery.payload
    if sub.builtin:
        legacy = LEGACY.get(delivery.event, delivery.event)
        envelope = {k: v for k, v in payload.items() if k != "data"}
        payload = {**payload["data"], "event": legacy, **envelope}
    return orjson.dumps(payload)


async def _send(settings: Settings, delivery: WebhookDelivery, sub: WebhookSubscription) -> int:
    # The built-in subscription is the operator's own ALERT_WEBHOOK_URL: trusted as configured.
    target = (
        security.Target(sub.url, None) if sub.builtin else await security.check(sub.url, settings)
    )
    body = body_of(delivery, sub)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"workshop-webhooks/{app_version()}",
        "Webhook-Id": delivery.event_id,
        "Webhook-Event": delivery.event,
    }
    if sub.secret:
        headers["Webhook-Signature"] = security.signature(sub.secret, int(time.time()), body)
    extensions: dict[str, Any] = {}
    if target.host is not None:
        headers["Host"] = _host_header(sub.url)
        if target.url.startswith("https:"):
            extensions["sni_hostname"] = target.host
    timeout = settings.alert_timeout_seconds if sub.builtin else settings.webhook_timeout_seconds
    async with httpx.AsyncClient(
        timeout=timeout, follow_redirects=False, trust_env=False
    ) as client:
        request = client.build_request(
            "POST", target.url, content=body, headers=headers, extensions=extensions
        )
        response = await client.send(request)
        return response.status_code


def _host_header(url: str) -> str:
    netloc = httpx.URL(url).netloc.decode()
    return netloc.rsplit("@", 1)[-1]
