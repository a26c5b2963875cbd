"""The audit trail, read: filtered, newest first, paged by keyset on the primary key.

Events are only ever appended (app/core/audit.py writes them), so an id cursor is stable: a
page after `after_id` is one range of the primary key, or of the index of the filter given
(`(resource, resource_id, id)`, `(resource, id)`, `(actor_name, id)`,
`(actor_kind, actor_id, id)`), at any depth, as for the workshop entries (ADR 0029).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.schemas import AuditEventRead, AuditQuery
from app.core.pagination import (
    Counted,
    JSONPage,
    between,
    changed,
    count_total,
    eq,
    json_page,
    read_columns,
    where,
)
from app.models import AuditEvent

A = AuditEvent
_LABEL = re.compile(r"(user|api_key|system):(.*)")


def _actor(value: str | None) -> list[Any]:
    if value is None:
        return []
    label = _LABEL.fullmatch(value)
    if label is None:
        return [A.actor_name == value]
    kind, id_ = label.groups()
    return [A.actor_kind == kind, A.actor_id.is_(None) if not id_ else A.actor_id == id_]


def _filters(query: AuditQuery) -> list[Any]:
    return where(
        eq(A.resource, query.resource),
        eq(A.resource_id, query.resource_id),
        eq(A.action, query.action),
        _actor(query.actor),
        between(A.at, query.from_, query.to),
        changed(query, A.id),  # on `at`
    )


def event_read(row: dict[str, Any]) -> AuditEventRead:
    return AuditEventRead.model_validate(item(row))


def page_statement(query: AuditQuery) -> Any:
    """The page's SELECT: the filters, the cursor, ordered by id, one row more than the page."""
    newest_first = query.order == "desc"
    stmt = select(*A.__table__.c).where(*_filters(query))
    if query.after_id is not None:
        stmt = stmt.where(A.id < query.after_id if newest_first else A.id > query.after_id)
    order: list[Any] = [A.id.desc() if newest_first else A.id.asc()]
    if query.updated_since is not None:  # the lists' sync order: by time, then id
        order = [A.at, A.id]
    return stmt.order_by(*order).offset(query.skip).limit(query.limit + 1)


async def list_events(session: AsyncSession, query: AuditQuery) -> JSONPage:
    """The page as AuditPage's JSON (`JSONPage`)."""
    rows = await read_columns(session, page_statement(query))
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    total = None
    if query.include_total:
        count = select(func.count()).select_from(A).where(*_filters(query))
        total = await count_total(session, count)
    cursor = rows[-1]["id"] if has_more and query.updated_since is None else None
    items = [item(row) for row in rows]
    return json_page(items, Counted(total, has_more), query, next_cursor=cursor)


def item(row: dict[str, Any]) -> dict[str, Any]:
    """An event's row as AuditEventRead's fields, in its order: the list's JSON item
    (`JSONPage`) as it is."""
    return {
        "id": row["id"],
        "at": row["at"],
        "actor": {"kind": row["actor_kind"], "id": row["actor_id"], "name": row["actor_name"]},
        "action": row["action"],
        "resource": row["resource"],
        "resource_id": row["resource_id"],
        "changes": row["changes"],
        "request_id": row["request_id"],
    }
