"""The SQLite driver (app/core/sqlite.py): one trip to the connection's thread per statement,
with every result, transaction and lock as plain aiosqlite gives them."""

from __future__ import annotations

import asyncio
import sqlite3 as stdlib_sqlite3
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.sqlite import dialect as SQLiteDialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.core import sqlite
from app.core.db import Database
from app.models.base import UTCDateTime
from tests.conftest import make_settings

meta = MetaData()
rows = Table("rows", meta, Column("id", Integer, primary_key=True), Column("name", String(20)))
MANY = sqlite.PREFETCH * 2 + 17  # more than two read-aheads, and not a multiple of one


def counting_to(n: int) -> str:
    """A read that keeps SQLite busy for a while: it counts to `n`, one row at a time."""
    recursive = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
    return recursive % n + " SELECT count(*) FROM n"  # noqa: S608  a number, not input


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = make_url(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    database = Database(make_settings(db_busy_timeout_ms=200), url)
    async with database.engine.begin() as conn:
        await conn.run_sync(meta.create_all)
        await conn.execute(insert(rows), [{"id": i, "name": f"r{i}"} for i in range(1, MANY + 1)])
    yield database
    await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function sent to a connection's thread, in order."""
    sent: list[str] = []
    call = sqlite.Connection.call

    async def counted(self: sqlite.Connection, function: Callable[[], Any]) -> Any:
        sent.append(getattr(function, "__qualname__", repr(function)))
        return await call(self, function)

    monkeypatch.setattr(sqlite.Connection, "call", counted)
    return sent


async def test_a_read_is_one_trip_a_page_none_and_its_commit_none(
    db: Database, trips: list[str]
) -> None:
    async with db.session(write=False) as session:
        await session.scalar(select(func.count()).select_from(rows))  # warm the pool
        await session.commit()
    trips.clear()
    async with db.session(write=False) as session:
        count = await session.scalar(select(func.count()).select_from(rows))
        assert len(trips) == 1  # SELECT + first rows; the deferred BEGIN never went
        page = (await session.execute(select(rows).order_by(rows.c.id).limit(101))).all()
        await session.commit()
    assert count == MANY
    assert [r.id for r in page] == list(range(1, 102))
    assert len(trips) == 1  # the page ran on the event loop's thread; no COMMIT


async def test_a_page_past_the_budget_starts_again_on_the_thread(
    db: Database, trips: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite stops a page read on the event loop's thread at `INLINE_SECONDS` (looked at every
    `_TICK` steps: here at the first look); the thread then reads it whole, and nothing of the
    budget is left behind on the connection."""
    monkeypatch.setattr(sqlite, "INLINE_SECONDS", 0)
    deep = select(rows.c.id).order_by(rows.c.id).limit(3).offset(MANY - 3)  # steps over MANY
    async with db.session(write=False) as session:
        assert list((await session.execute(deep)).scalars()) == [MANY - 2, MANY - 1, MANY]
        assert len(trips) == 1
        first = select(rows.c.id).order_by(rows.c.id).limit(3)
        assert list((await session.execute(first)).scalars()) == [1, 2, 3]
        assert len(trips) == 1  # under the budget: on the loop
        # On the thread, which no budget left behind stops:
        assert await session.scalar(text(counting_to(100_000))) == 100_000
        assert len(trips) == 2


async def test_a_page_waits_for_an_unfinished_trip(tmp_path: Path, db: Database) -> None:
    """While a trip is unfinished the thread owns the connection: a page goes behind it."""
    conn = sqlite.connect(str(tmp_path / "driver.db"), isolation_level=None)
    await conn
    try:
        busy = asyncio.ensure_future((await conn.cursor()).execute(counting_to(300_000)))
        await asyncio.sleep(0)  # queued: the thread is busy with it
        assert not conn._idle()
        assert conn.inline(lambda: "ran") is None
        page = await (await conn.cursor()).execute("SELECT id FROM rows ORDER BY id LIMIT 2")
        assert busy.done()  # the page went behind the slow read
        assert await page.fetchall() == [(1,), (2,)]
        assert conn.inline(lambda: "ran") == "ran"  # idle again
    finally:
        await conn.close()


async def test_a_page_on_the_loop_never_waits_for_a_lock(tmp_path: Path, db: Database) -> None:
    """A lock a reader meets (here another process's exclusive lock) is waited for on the
    connection's thread, up to the busy timeout, while the event loop runs on."""
    await db.dispose()  # no pooled connection holds the file: the holder can take it whole
    path = str(tmp_path / "driver.db")
    holder = stdlib_sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO rows (id, name) VALUES (0, 'held')")
    conn = sqlite.connect(path, isolation_level=None, timeout=10)
    await conn
    try:
        page = asyncio.ensure_future(
            (await conn.cursor()).execute("SELECT id FROM rows ORDER BY id LIMIT 2")
        )
        started = time.monotonic()
        await asyncio.sleep(0)  # the page's first step: its try on the loop, given up at once
        assert time.monotonic() - started < 5  # not the busy timeout's 10 s
        for _ in range(20):  # the loop is free: 20 turns of 10 ms while the thread waits
            await asyncio.sleep(0.01)
        assert not page.done()
        assert conn._busy_ms == 10_000
        holder.execute("COMMIT")
        holder.close()
        assert await (await page).fetchall() == [(0,), (1,)]
        assert await conn.call(lambda: conn._conn.execute("PRAGMA busy_timeout").fetchone()) == (
            10_000,
        )  # the busy timeout is the connection's again
    finally:
        await conn.close()


async def test_an_error_in_a_page_on_the_loop_is_the_drivers_error(
    db: Database, trips: list[str]
) -> None:
    """Raised from the loop as the thread raised it, SQLite's errors and sqlite3's own (which
    carry no SQLite error code: text that is not UTF-8) alike."""
    async with db.session() as session, session.begin():
        bad = text("INSERT INTO rows VALUES (:id, CAST(x'ff' AS TEXT))")  # not UTF-8
        await session.execute(bad, {"id": MANY + 1})
    trips.clear()
    async with db.session(write=False) as session:
        with pytest.raises(OperationalError, match="no such table: gone"):
            await session.execute(text("SELECT * FROM gone LIMIT 5"))
        with pytest.raises(OperationalError, match="decode"):
            await session.execute(select(rows.c.name).where(rows.c.id == MANY + 1).limit(1))
        assert trips == []  # both on the loop: neither was sent again to the thread
    async with db.session(write=False) as session:  # the connection reads on
        assert (await session.execute(select(rows.c.id).limit(1))).scalar() == 1


async def test_a_read_session_reads_each_commit_and_begins_with_its_first_write(
    db: Database,
) -> None:
    """A deferred BEGIN waits past reads (each sees the latest commit, as at READ COMMITTED on
    the server databases) and goes with the first write: what follows is one transaction."""
    count = select(func.count()).select_from(rows)
    async with db.session(write=False) as reader:
        assert await reader.scalar(count) == MANY
        async with db.session() as writer, writer.begin():
            await writer.execute(insert(rows).values(id=MANY + 1, name="meanwhile"))
        assert await reader.scalar(count) == MANY + 1  # no snapshot held since the first read
        await reader.execute(insert(rows).values(id=MANY + 2, name="then"))
        await reader.execute(text("UPDATE rows SET name = 'changed' WHERE id = 1"))
        await reader.rollback()  # both writes, as one transaction
    async with db.engine.connect() as conn:
        assert await conn.scalar(count) == MANY + 1
        assert await conn.scalar(select(rows.c.name).where(rows.c.id == 1)) == "r1"


async def test_a_transaction_that_runs_nothing_never_begins(db: Database, trips: list[str]) -> None:
    async with db.session() as session, session.begin():
        await session.connection()  # BEGIN IMMEDIATE is emitted to the driver here
    assert trips == []
    # ...and took no lock: another writer gets in at once.
    async with db.session() as session, session.begin():
        await session.execute(insert(rows).values(id=MANY + 1, name="next"))


async def test_results_past_the_read_ahead_come_whole_and_in_order(db: Database) -> None:
    async with db.engine.connect() as conn:
        every = (await conn.execute(select(rows.c.id).order_by(rows.c.id))).scalars().all()
        assert every == list(range(1, MANY + 1))
        streamed: list[int] = []
        result = await conn.stream(select(rows.c.id).order_by(rows.c.id))
        async for part in result.partitions(500):
            assert len(part) <= 500
            streamed.extend(r.id for r in part)
        assert streamed == every
        # A result read in part, then left: the next statement on the connection still runs.
        partial = await conn.stream(select(rows.c.id).order_by(rows.c.id))
        assert (await partial.fetchone()).id == 1  # type: ignore[union-attr]
        await partial.close()
        assert await conn.scalar(select(func.count()).select_from(rows)) == MANY
        assert await conn.scalar(select(rows.c.name).where(rows.c.id == MANY)) == f"r{MANY}"
        assert await conn.scalar(select(rows.c.name).where(rows.c.id == -1)) is None


async def test_writes_report_counts_and_ids(db: Database) -> None:
    async with db.engine.begin() as conn:
        changed = await conn.execute(text("UPDATE rows SET name = 'x' WHERE id <= 10"))
        assert changed.rowcount == 10
        added = await conn.execute(insert(rows).values(name="new"))
        assert added.inserted_primary_key == (MANY + 1,)
        many = await conn.execute(insert(rows), [{"name": "a"}, {"name": "b"}])
        assert many.rowcount == 2
    async with db.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).where(rows.c.name == "x")) == 10


async def test_writers_still_queue_on_the_lock_taken_with_the_first_statement(
    db: Database,
) -> None:
    """BEGIN IMMEDIATE now goes with the first statement: a second writer still waits for the
    lock (here it gives up after the 200 ms busy timeout), and its connection is clean after."""
    async with db.session() as first, first.begin():
        await first.execute(insert(rows).values(id=MANY + 1, name="first"))
        with pytest.raises(OperationalError, match="locked"):
            async with db.session() as second, second.begin():
                await second.execute(select(rows.c.id).limit(1))
    async with db.session() as second, second.begin():
        await second.execute(insert(rows).values(id=MANY + 2, name="second"))
    async with db.engine.connect() as conn:
        names = (await conn.execute(select(rows.c.name).where(rows.c.id > MANY))).scalars()
        assert sorted(names) == ["first", "second"]


async def test_a_rolled_back_write_leaves_nothing(db: Database) -> None:
    async def fail_after_writing() -> None:
        async with db.session() as session, session.begin():
            await session.execute(insert(rows).values(id=MANY + 1, name="gone"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        await fail_after_writing()
    async with db.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(rows)) == MANY


async def test_the_pool_is_the_configured_one_and_keeps_its_connections(tmp_path: Path) -> None:
    """SQLAlchemy's default pool for SQLite closed every connection past its fifth as soon as it
    came back, so under load connections (each with its thread) were made and closed again and
    again. The configured pool keeps `DB_POOL_SIZE` of them."""
    url = make_url(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    database = Database(make_settings(db_pool_size=8, db_max_overflow=2), url)
    made: list[object] = []
    event.listen(database.engine.sync_engine.pool, "connect", lambda *_: made.append(1))
    try:

        async def read(i: int) -> int:
            async with database.session(write=False) as session:
                value = await session.scalar(text(f"SELECT {i}"))
                await asyncio.sleep(0.01)  # its connection held: all eight at once
                return int(value)

        for _ in range(3):
            assert await asyncio.gather(*(read(i) for i in range(8))) == list(range(8))
        assert database.engine.pool.size() == 8  # type: ignore[attr-defined]
        assert len(made) == 8  # made once, kept between the rounds
    finally:
        await database.dispose()


@pytest.mark.filterwarnings("ignore:Selection of the StaticPool:DeprecationWarning")
@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///file:mem?mode=memory&cache=shared&uri=true"]
)
async def test_a_database_in_memory_keeps_its_one_connection(url: str) -> None:
    database = Database(make_settings(), make_url(url))
    try:
        async with database.session(write=False) as session:
            assert await session.scalar(text("SELECT 1")) == 1
    finally:
        await database.dispose()


async def test_concurrent_sessions_each_see_their_own_results(db: Database) -> None:
    async def read(i: int) -> list[int]:
        async with db.session(write=False) as session:
            stmt = select(rows.c.id).where(rows.c.id > i * 60).order_by(rows.c.id).limit(50)
            return list((await session.execute(stmt)).scalars())

    pages = await asyncio.gather(*(read(i) for i in range(30)))
    assert pages == [list(range(i * 60 + 1, i * 60 + 51)) for i in range(30)]


async def test_a_rollback_after_a_cancelled_statement_waits_for_it(
    db: Database, tmp_path: Path
) -> None:
    """A cancelled caller does not stop its statement on the thread, nor the BEGIN that goes
    with it: the rollback must go behind it, or the connection would stay in a transaction that
    holds the write lock."""
    conn = sqlite.connect(str(tmp_path / "driver.db"), isolation_level=None)
    await conn
    try:
        busy = asyncio.ensure_future((await conn.cursor()).execute(counting_to(2_000_000)))
        await asyncio.sleep(0)
        writer = await conn.cursor()
        await writer.execute("BEGIN IMMEDIATE")  # waits for the first statement
        write = asyncio.ensure_future(writer.execute("INSERT INTO rows (name) VALUES ('lost')"))
        await asyncio.sleep(0)  # queued behind the slow read, BEGIN with it
        write.cancel()
        await conn.rollback()  # before the thread reached the write
        await busy
        await conn.call(lambda: None)  # every trip done
        assert not conn.in_transaction
    finally:
        await conn.close()
    async with db.session() as session, session.begin():  # the write lock is free
        await session.execute(insert(rows).values(id=MANY + 1, name="after"))
        assert await session.scalar(select(func.count()).where(rows.c.name == "lost")) == 0


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("2026-11-30 22:05:31.123456", datetime(2026, 11, 30, 22, 5, 31, 123456, tzinfo=UTC)),
        ("2026-11-30 22:05:31", datetime(2026, 11, 30, 22, 5, 31, tzinfo=UTC)),
        ("2026-11-30T22:05:31+02:00", datetime(2026, 11, 30, 20, 5, 31, tzinfo=UTC)),
        ("2026-11-30T22:05:31Z", datetime(2026, 11, 30, 22, 5, 31, tzinfo=UTC)),
        ("2026-11-30", datetime(2026, 11, 30, tzinfo=UTC)),
        (datetime(2026, 11, 30, 22, 5), datetime(2026, 11, 30, 22, 5, tzinfo=UTC)),
        (None, None),
    ],
)
def test_a_utc_column_reads_any_text_sqlite_holds_as_utc(
    stored: str | datetime | None, read: datetime | None
) -> None:
    """The one-call reader of UTC columns on SQLite (app/models/base.py) reads what the
    columns store, naive UTC, and any other text as SQLAlchemy's reader would."""
    process = UTCDateTime().result_processor(SQLiteDialect(), None)
    value = process(stored)
    assert value == read
    assert value is None or value.utcoffset() == timedelta(0)


def test_a_utc_column_refuses_text_that_is_no_time() -> None:
    process = UTCDateTime().result_processor(SQLiteDialect(), None)
    with pytest.raises(ValueError, match="isoformat"):
        process("2026-11-301101")  # an offset glued to it would have read as one
