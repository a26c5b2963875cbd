"""Engine, sessions and units of work.

One `Database` per process holds the engine. Each request gets one session (`SessionDep`) that
commits when the route returns and rolls back on any error, before the response is sent, so a
client never sees 2xx for a write that did not land.

Per dialect:
- SQLite: WAL, foreign keys on, a busy timeout; writing sessions open `BEGIN IMMEDIATE`, so two
  writers queue on the lock instead of failing with a snapshot conflict half-way.
- MariaDB/MySQL: strict SQL mode, utf8mb4, UTC session time zone, READ COMMITTED.
- PostgreSQL: UTC, an application name for pg_stat_activity.
Server databases use `pool_pre_ping`, so a connection lost while idle is replaced, and a
database that comes back is used again without a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from app.core import sqlite
from app.core import writes as _writes  # noqa: F401  its engine events note what commits wrote
from app.core.attached import discard_files
from app.core.audit import AuditedSession
from app.core.config import Settings
from app.core.errors import is_transient_db_error
from app.core.logger import get_logger
from app.work_orders import totals as _order_totals  # noqa: F401  ORM events keep its totals

T = TypeVar("T")
log = get_logger(__name__)

_MYSQL_SQL_MODE = (
    "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION"
)
_SQLITE_IMMEDIATE = "workshop_sqlite_immediate"


def json_text(value: Any) -> str:
    """JSON columns written with orjson: five times the standard library's speed, which an
    import of a hundred thousand rows with JSON columns notices (ADR 0028). Keys that are not
    text become text, as the standard library makes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_engine(
    settings: Settings, url: URL | None = None, *, foreign_keys: bool = True
) -> AsyncEngine:
    """`foreign_keys=False` (SQLite only) is for migrations: SQLite changes a table by copying
    it, and dropping the old copy would fail while other tables refer to it."""
    url = url or settings.sqlalchemy_url
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, settings, foreign_keys)
    pool: dict[str, Any] = {
        "json_serializer": json_text,
        "pool_pre_ping": True,
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
        "pool_recycle": 1800,
    }
    if backend == "mysql":
        return create_async_engine(
            url,
            isolation_level="READ COMMITTED",
            connect_args={
                "charset": "utf8mb4",
                "connect_timeout": int(max(1, settings.db_connect_timeout)),
                "init_command": f"SET SESSION sql_mode='{_MYSQL_SQL_MODE}', time_zone='+00:00'",
            },
            **pool,
        )
    return create_async_engine(
        url,
        connect_args={
            "timeout": settings.db_connect_timeout,
            "server_settings": {"timezone": "UTC", "application_name": "workshop"},
        },
        **pool,
    )


def _sqlite_engine(url: URL, settings: Settings, foreign_keys: bool = True) -> AsyncEngine:
    pool: dict[str, Any] = {}
    if SQLiteDialect_aiosqlite.get_pool_class(url) is not StaticPool:  # a file, not memory
        Path(url.database or ".").parent.mkdir(parents=True, exist_ok=True)
        # The configured pool, as on the server databases. SQLAlchemy's default for SQLite (5,
        # and 10 more closed as soon as they come back) made and closed a connection, with its
        # thread, many times a second under load (ADR 0045).
        pool = {
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_pool_timeout,
        }

    async def connect() -> sqlite.Connection:
        args, options = engine.dialect.create_connect_args(url)
        options["timeout"] = settings.db_busy_timeout_ms / 1000
        connection = sqlite.connect(*args, **options)
        await connection
        return connection

    # One trip to the connection's thread per statement (app/core/sqlite.py, ADR 0022).
    engine = create_async_engine(url, async_creator=connect, json_serializer=json_text, **pool)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of the sqlite3 module's own.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.db_busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_SQLITE_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """The engine and the two session factories of one process."""

    def __init__(self, settings: Settings, url: URL | None = None) -> None:
        self.settings = settings
        self.engine = create_engine(settings, url)
        self.dialect = self.engine.dialect.name
        writer = self.engine.execution_options(**{_SQLITE_IMMEDIATE: True})
        # AuditedSession: every change of a resource writes its audit event (app/core/audit.py).
        self.read_sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=AuditedSession
        )
        self.write_sessions = async_sessionmaker(
            writer, expire_on_commit=False, sync_session_class=AuditedSession
        )

    def session(self, *, write: bool = True) -> AsyncSession:
        return (self.write_sessions if write else self.read_sessions)()

    async def ping(self, timeout_s: float = 3.0) -> None:
        async with asyncio.timeout(timeout_s), self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def run(
        self,
        work: Callable[[AsyncSession], Awaitable[T]],
        *,
        write: bool = True,
        patience: float | None = None,
    ) -> T:
        """Run `work` in its own transaction, retrying it whole on transient errors:
        DB_RETRY_ATTEMPTS times, or for `patience` seconds when given (for writes that must
        land once the database is back).

        Only for units of work that are safe to repeat: each attempt starts from a rolled-back
        session, so nothing of a failed attempt remains.
        """
        async for attempt in self.retrying(patience):
            with attempt:
                async with self.session(write=write) as session, session.begin():
                    return await work(session)
        raise AssertionError("unreachable")  # pragma: no cover

    def retrying(self, patience: float | None = None) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception(is_transient_db_error),
            stop=stop_after_delay(patience)
            if patience is not None
            else stop_after_attempt(self.settings.db_retry_attempts),
            wait=wait_exponential_jitter(multiplier=0.05, max=1.0 if patience is None else 5.0),
            before_sleep=lambda state: log.warning(
                "retrying_transient_db_error",
                attempt=state.attempt_number,
                error=str(state.outcome.exception()) if state.outcome else None,
            ),
            reraise=True,
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    db = get_db(request)
    async with db.session(write=request.method not in SAFE_METHODS) as session:
        session.info["totals"] = request.app.state.totals  # this app's kept list counts
        try:
            yield session
            # Files that the transaction drops go just before it commits (app/core/attached.py).
            await discard_files(session, request.app.state.storage)
            # What must commit with the request's work, or not at all (an idempotency claim's
            # mark, app/core/idempotency.py).
            if (before_commit := getattr(request.state, "before_commit", None)) is not None:
                await before_commit(session)
            await session.commit()
        except BaseException:
            await rollback_quietly(session)
            raise


async def rollback_quietly(session: AsyncSession) -> None:
    """Roll back, without letting a dead connection hide the error that got us here."""
    try:
        await session.rollback()
    except Exception as exc:
        log.warning("rollback_failed", error=str(exc))


# scope="function": commit/rollback happen before the response is sent.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_db)]
