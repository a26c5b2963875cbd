"""Deletions of listed rows, kept for the clients that sync a copy (`GET /deletions`, ADR 0034).

A copy learns of new and changed rows from the lists' `updated_since`; of the rows gone, from
here. Every way a listed row leaves the database writes its row(s) into `deletions`, in the
deleting transaction, so a rollback takes them back with it:

- an ORM delete (a route's DELETE, through the Repository) is already seen by the audit trail's
  mapper events (app/core/audit.py): the deletes kept for the audit are written here too, in the
  same `before_commit` hook (a row made and removed in one transaction is in neither);
- rows the database deletes with it (ON DELETE CASCADE: a work order's welds, an employee's
  qualifications, an item's lots and stock movements) are written by one INSERT ... SELECT
  per child table just before the parent's DELETE (`before_delete` of the same listeners);
- Core DELETEs (an import's undo and its entries, the attachments of a deleted owner) call
  `record_where` beside the statement: one INSERT ... SELECT, whatever the number of rows.

A row may be listed twice (reached by two cascades, or by the ORM and a cascade): deleting a
row the copy no longer holds is nothing, so the feed does not dedupe.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Permission
from app.core.resources import NAMES
from app.models import (
    ApiKey,
    Deletion,
    ImportRecord,
    StockMovement,
    WorkshopEntry,
)
from app.models.base import Base, utcnow

DELETIONS: Table = Deletion.__table__  # type: ignore[assignment]

# Listed, though written by the services alone (no audit events): moves, imports, entries.
SERVICE_WRITTEN: dict[type[Any], str] = {
    StockMovement: "stock-movements",
    ImportRecord: "imports",
    WorkshopEntry: "workshop-entries",
}
# The listed resources (a `GET` list of the API), by table: the names the feed gives, the
# URL's (the audit trail's, app/core/resources.py), but API keys (no client keeps a copy).
# Audit events are never deleted.
LISTED: dict[Table, str] = {
    model.__table__: name
    for model, name in (NAMES | SERVICE_WRITTEN).items()
    if model is not ApiKey
}
RESOURCE_NAMES = frozenset(LISTED.values())
# Shown only to those who may list them: the permission each needs beyond `read`.
RESTRICTED: dict[str, Permission] = {
    "users": Permission.user_admin,
    "webhooks": Permission.webhook_manage,
}


def _insert(table: Table, condition: ColumnElement[bool], at: datetime) -> Any:
    """INSERT INTO deletions SELECT the rows of `table` matching `condition`: one statement
    for any number of rows."""
    rows = select(literal(LISTED[table]), table.c.id, literal(at, Deletion.deleted_at.type))
    columns = ["resource", "resource_id", "deleted_at"]
    return DELETIONS.insert().from_select(columns, rows.where(condition))


def write(connection: Connection, gone: Iterable[tuple[str, Any, datetime]]) -> None:
    """Rows already known by id (the audit trail's deletes of this transaction)."""
    rows = [
        {"resource": resource, "resource_id": int(id_), "deleted_at": at}
        for resource, id_, at in gone
        if resource in RESOURCE_NAMES
    ]
    if rows:
        connection.execute(DELETIONS.insert(), rows)


@cache
def _cascades(table: Table) -> list[tuple[Table, Any]]:
    """(child table, its foreign key) of the rows the database deletes with a row of `table`."""
    return [
        (other, fk)
        for other in Base.metadata.sorted_tables
        for fk in other.foreign_keys
        if fk.column.table is table and fk.ondelete == "CASCADE" and "id" in other.c
    ]


def _statements(table: Table, ids: Any, at: datetime, depth: int = 0) -> Iterable[Any]:
    """The INSERT ... SELECTs of the listed rows deleted with the rows `ids` (a subquery or
    a list) of `table`, children first, a few levels down (as the dependents check)."""
    for child, fk in _cascades(table):
        child_ids = select(child.c.id).where(fk.parent.in_(ids))
        if depth < 3:
            yield from _statements(child, child_ids, at, depth + 1)
        if child in LISTED:
            yield _insert(child, fk.parent.in_(ids), at)


def cascade(connection: Connection, table: Table, ids: list[Any]) -> None:
    """Record the listed rows the database will delete with the rows `ids` of `table`: call
    just before their DELETE (a mapper's `before_delete`)."""
    at = utcnow()
    for statement in _statements(table, ids, at):
        connection.execute(statement)


async def record_where(session: AsyncSession, table: Table, condition: ColumnElement[bool]) -> None:
    """Record the rows of `table` matching `condition`, and the listed rows the database
    deletes with them: call just before a Core DELETE with the same condition."""
    at = utcnow()
    ids = select(table.c.id).where(condition)
    for statement in _statements(table, ids, at):
        await session.execute(statement)
    if table in LISTED:
        await session.execute(_insert(table, condition, at))
