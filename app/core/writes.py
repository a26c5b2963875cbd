"""Which tables a committed transaction wrote: so the worker that wrote stops using what it kept
from them at once (the list totals of app/core/pagination.py; ADR 0038).

Every INSERT, UPDATE and DELETE statement SQLAlchemy executes (an ORM flush, a Core or bulk ORM
statement, through a session or a bare connection) names its table: an engine event notes it on
the connection, with the tables a DELETE cascades to (foreign keys ON DELETE). The one write
that bypasses SQLAlchemy's statements, the import's driver-level executemany
(app/core/bulk.py), notes its table itself (`note`). A rollback forgets what was noted; a commit
keeps it until the connection goes back to the pool, just after the commit, and then hands the
tables to the caches bound to the work (`bound_to`): the app that served the request, or that
started the background import or scheduled job. Not before the commit: a count read in between
would see the old rows and be kept as new.

Only this worker's caches hear of it: another worker's (or replica's) lapse within their time
to live (LIST_TOTAL_CACHE_SECONDS), as verified credentials do (app/auth/cache.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any, Protocol

from sqlalchemy import Table, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import Pool
from sqlalchemy.sql.dml import Delete, UpdateBase
from sqlalchemy.sql.util import find_tables
from starlette.types import ASGIApp, Receive, Scope, Send

_NOTED = "workshop_tables_written"  # this transaction's, on the connection's info
_COMMITTED = "workshop_tables_committed"  # committed, not yet handed on
_OWNER = "workshop_tables_owner"  # the caches to hand them to


class Forgets(Protocol):
    def forget(self, tables: Iterable[str]) -> None: ...


_bound: ContextVar[Forgets | None] = ContextVar("workshop_written_tables_cache", default=None)
_cascades: dict[str, frozenset[str]] = {}


def bind(cache: Forgets | None) -> None:
    """Hand the tables written from here on (this task and the tasks it starts) to `cache`."""
    _bound.set(cache)


class BoundTo:
    """Binds each request, and whatever it starts in the background, to the app's cache."""

    def __init__(self, app: ASGIApp, cache: Forgets) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _bound.set(self.cache)
        try:
            await self.app(scope, receive, send)
        finally:
            _bound.reset(token)


def note(connection: Connection, *tables: str) -> None:
    """Note tables written in the connection's transaction (a write SQLAlchemy does not see)."""
    noted: set[str] = connection.info.setdefault(_NOTED, set())
    noted.update(tables)
    if _OWNER not in connection.info:
        cache = _bound.get()
        if cache is not None:
            connection.info[_OWNER] = cache


def cascades(table: Table) -> frozenset[str]:
    """`table` and every table whose rows a delete of its rows deletes or changes (ON DELETE)."""
    known = _cascades.get(table.name)
    if known is not None:
        return known
    found, todo = {table.name}, [table.name]
    tables = table.metadata.tables.values()
    while todo:
        parent = todo.pop()
        for child in tables:
            if child.name not in found and any(
                fk.ondelete and fk.column.table.name == parent for fk in child.foreign_keys
            ):
                found.add(child.name)
                todo.append(child.name)
    _cascades[table.name] = frozenset(found)
    return _cascades[table.name]


@event.listens_for(Engine, "after_execute")
def _after_execute(conn: Connection, clause: Any, *_: Any) -> None:
    if not isinstance(clause, UpdateBase):
        return
    target = clause.table
    if isinstance(target, Table):
        names = cascades(target) if isinstance(clause, Delete) else {target.name}
    else:  # a join or an alias: every table in it
        names = {t.name for t in find_tables(target) if isinstance(t, Table)}
    note(conn, *names)


@event.listens_for(Engine, "commit")
def _on_commit(conn: Connection) -> None:
    noted = conn.info.pop(_NOTED, None)
    if noted:
        conn.info.setdefault(_COMMITTED, set()).update(noted)


@event.listens_for(Engine, "rollback")
def _on_rollback(conn: Connection) -> None:
    conn.info.pop(_NOTED, None)


@event.listens_for(Pool, "checkin")
def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    info = getattr(record, "info", None)
    if info is None:
        return
    info.pop(_NOTED, None)  # a transaction never ended (the connection is reset)
    committed, cache = info.pop(_COMMITTED, None), info.pop(_OWNER, None)
    if committed and cache is not None:
        cache.forget(committed)
