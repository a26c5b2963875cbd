"""The events a webhook may subscribe to, and `emit`: the one way an event is recorded.

`emit` runs in the transaction of whatever noticed the fact (an import that failed, the scan of
due dates): it inserts one pending delivery per active subscription to the event, keyed by
(subscription, event key), and ignores a key already there. Two processes that notice the same
fact both insert; the unique constraint keeps one row, so the event is delivered once. A fact
noticed inside a transaction that rolls back leaves no delivery (an outbox, ADR 0037).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from app.models.base import utcnow


class EventType(StrEnum):
    import_failed = "import.failed"
    schedule_failed = "schedule.failed"
    conformance_failed = "conformance.failed"
    qualification_lapsing = "qualification.lapsing"
    qualification_lapsed = "qualification.lapsed"
    calibration_due = "calibration.due"
    calibration_overdue = "calibration.overdue"
    validation_due = "validation.due"
    validation_overdue = "validation.overdue"
    stock_reorder = "stock.reorder"
    work_order_overdue = "work_order.overdue"
    ping = "ping"


CATALOGUE: dict[EventType, str] = {
    EventType.import_failed: "An import failed (an upload in the background; a scheduled file "
    "once its last attempt failed)",
    EventType.schedule_failed: "An import schedule could not read its source",
    EventType.conformance_failed: "An import (or its re-check) has weld runs that fail the WPS",
    EventType.qualification_lapsing: "A welder's qualification expires within the horizon",
    EventType.qualification_lapsed: "A qualification expired, or its six-month confirmation "
    "(ISO 9606-1) or process clock (ASME IX) ran out",
    EventType.calibration_due: "Equipment's calibration falls due within the horizon",
    EventType.calibration_overdue: "Equipment's calibration is overdue",
    EventType.validation_due: "A machine's validation (IEC 60974-14) falls due within the horizon",
    EventType.validation_overdue: "A machine's validation is overdue, or it was never validated",
    EventType.stock_reorder: "An item is at or below its reorder level (once a day while it is)",
    EventType.work_order_overdue: "An open work order is past its due date",
    EventType.ping: "A test delivery (POST /webhooks/{id}/ping); needs no subscription",
}
DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[assignment]


def envelope(event_id: str, event: EventType, data: Any) -> dict[str, Any]:
    """The JSON body of a delivery."""
    return {
        "id": event_id,
        "type": event.value,
        "created_at": utcnow().isoformat(),
        "data": to_jsonable_python(data),
    }


def delivery_row(subscription_id: int, event: EventType, key: str, data: Any) -> dict[str, Any]:
    now, event_id = utcnow(), str(uuid.uuid4())
    return {
        "subscription_id": subscription_id,
        "event": event.value,
        "event_key": f"{event.value}:{key}"[:200],
        "event_id": event_id,
        "payload": envelope(event_id, event, data),
        "status": DeliveryStatus.pending,
        "attempts": 0,
        "next_attempt_at": now,
        "log": [],
        "created_at": now,
        "updated_at": now,
    }


def insert_ignoring_duplicates(dialect: str) -> Any:
    """INSERT that skips a row whose (subscription, event key) is there already."""
    if dialect == "postgresql":
        return postgresql.insert(DELIVERIES).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(DELIVERIES).on_conflict_do_nothing()
    return insert(DELIVERIES).prefix_with("IGNORE")


async def subscribers(session: AsyncSession, event: EventType) -> list[int]:
    rows = await session.execute(
        select(WebhookSubscription.id, WebhookSubscription.events).where(
            WebhookSubscription.active.is_(True)
        )
    )
    return [sub_id for sub_id, events in rows.all() if event.value in (events or [])]


async def emit(session: AsyncSession, event: EventType, key: str, data: Any) -> int:
    """Record `event` (`key` names the fact: the same key is the same event) for every active
    subscription to it; returns how many subscriptions it was new for (0 on MariaDB, whose
    INSERT IGNORE reports no count we rely on)."""
    targets = await subscribers(session, event)
    return await emit_to(session, targets, event, key, data)


async def emit_to(
    session: AsyncSession, targets: list[int], event: EventType, key: str, data: Any
) -> int:
    if not targets:
        return 0
    rows = [delivery_row(t, event, key, data) for t in targets]
    dialect = session.get_bind().dialect.name
    result = await session.execute(insert_ignoring_duplicates(dialect), rows)
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


def conformance_data(import_id: int, template_id: int, summary: dict[str, Any]) -> dict[str, Any]:
    """The data of `conformance.failed`: the import and its conformance summary."""
    return {
        "import_id": import_id,
        "template_id": template_id,
        "url": f"/api/v1/imports/{import_id}",
        "conformance": summary,
    }
