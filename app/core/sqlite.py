"""aiosqlite with one trip to the connection's thread per statement.

aiosqlite runs each call of the sqlite3 module on a thread of the connection's own, and every
call is a trip there and back: the event loop queues it, the thread wakes, runs it, and wakes the
loop. SQLAlchemy's adapter makes three or four such trips per statement (open a cursor, execute,
fetch, close), so a read-only request made nine: BEGIN, SELECT, COMMIT and a rollback when the
connection goes back to the pool. A page of rows costs SQLite about 0.1 ms; each trip costs more
than that, and more again under load, when the threads take turns at the GIL.

Here a request's read is one trip, and its commit another:
- a statement runs in one trip, which opens the cursor and brings back the first `PREFETCH` rows
  (a list page; a bigger result, such as an export streaming a million rows, is still read in
  bounded chunks);
- BEGIN waits and goes with the transaction's first statement (a transaction that runs none
  never begins); a deferred BEGIN (plain `BEGIN`, a read session's) waits past SELECTs, for the
  first statement that writes: reads outside it each see the latest commit, as they do at
  READ COMMITTED on PostgreSQL and MariaDB, and a read-only transaction needs no COMMIT trip;
  BEGIN IMMEDIATE (a write session's) still goes with the first statement, whatever it is;
- closing a cursor whose rows were all read, and committing or rolling back with no transaction
  open and no trip unfinished, need no trip;
- a page (a SELECT with a LIMIT, sent with no BEGIN) makes no trip at all while the thread is
  idle: it runs on the event loop's own thread, within a budget of time (`INLINE_SECONDS`,
  5 ms); a page that runs past it is stopped and sent to the thread.
  Under load a trip costs more than the page: the loop and the thread take turns at the GIL.
  Only pages: SQLite counts a whole table (`SELECT count(*) FROM t`) in one step of its
  virtual machine, between two of which the budget is looked at.
ADR 0022 and ADR 0045 in docs/Architecture_Decisions.md give the figures.
"""

from __future__ import annotations

import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import aiosqlite
from aiosqlite.context import contextmanager

T = TypeVar("T")
BEGIN = frozenset({"BEGIN", "BEGIN IMMEDIATE", "BEGIN DEFERRED", "BEGIN EXCLUSIVE"})
DEFERRED = frozenset({"BEGIN", "BEGIN DEFERRED"})  # takes no lock: may wait past reads
PREFETCH = 1024  # rows read with the statement: a list page (at most 1,001 rows) in one trip
# A page read on the event loop's thread is stopped after this long and sent to the thread
# instead. A list page of 100 rows takes 0.1-0.3 ms of SQLite's time (2,000 to 4,000 of its
# virtual machine's steps), of 1,000 rows a few ms; a filter no index serves, seconds.
INLINE_SECONDS = 0.005
_TICK = 1_000  # SQLite's steps between two looks at the clock (about 0.1 ms)
# sqlite3 built serialized: a connection may pass between threads (the loop's and its own).
_SERIALIZED = sqlite3.threadsafety == 3
# A read on the loop never waits: SQLite stopped it at the budget, or it met a lock (a reader
# rarely does in WAL mode) which the thread then waits for, up to the busy timeout.
_GIVE_UP = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT})


class Cursor(aiosqlite.Cursor):
    """Opened lazily on the connection's thread; `execute` runs the statement and reads its
    first rows in the same trip."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn, None)  # type: ignore[arg-type]  # opened by the first statement
        self._owner = conn
        self._arraysize = 1  # rows per fetchmany() without a size, as in sqlite3
        self._rows: deque[Any] = deque()
        self._pending = False  # rows left in SQLite beyond those read ahead

    async def _run(
        self,
        statement: Callable[[sqlite3.Cursor], sqlite3.Cursor],
        reads: bool = False,
        page: bool = False,
    ) -> Cursor:
        """One trip: open the cursor, send a waiting BEGIN (a deferred one only before a
        statement that `reads` not), run `statement`, read ahead. A `page` (a read) that sends
        no BEGIN first tries the event loop's thread (`Connection.inline`)."""
        begin = self._owner._begin
        if begin is not None and reads and begin in DEFERRED:
            begin = None  # still waiting, for the first write
        else:
            self._owner._begin = None

        def run() -> list[Any]:
            if self._cursor is None:
                self._cursor = self._owner._conn.cursor()
            if begin is not None:
                self._cursor.execute(begin)
            cursor = statement(self._cursor)
            return cursor.fetchmany(PREFETCH) if cursor.description else []

        rows = self._owner.inline(run) if page and begin is None else None
        if rows is None:
            rows = await self._owner.call(run)
        self._rows = deque(rows)
        self._pending = len(rows) == PREFETCH
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        upper = sql.upper()
        if not parameters and upper in BEGIN:
            self._owner._begin = upper  # sent with the transaction's first statement
            return self
        params = () if parameters is None else parameters
        reads = upper.lstrip().startswith("SELECT")
        page = reads and " LIMIT " in upper
        return await self._run(lambda c: c.execute(sql, params), reads, page)  # type: ignore[arg-type]

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        return await self._run(lambda c: c.executemany(sql, parameters))  # type: ignore[arg-type]

    async def executescript(self, sql_script: str) -> Cursor:
        return await self._run(lambda c: c.executescript(sql_script))

    async def fetchone(self) -> Any:
        if not self._rows and self._pending:
            await self._more(PREFETCH)
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size or self.arraysize
        if len(self._rows) < size and self._pending:
            await self._more(max(size - len(self._rows), PREFETCH))
        return [self._rows.popleft() for _ in range(min(size, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        if self._pending:
            assert self._cursor is not None
            rows.extend(await self._owner.call(self._cursor.fetchall))
            self._pending = False
        return rows

    async def _more(self, size: int) -> None:
        cursor = self._cursor
        assert cursor is not None
        more: list[Any] = await self._owner.call(lambda: cursor.fetchmany(size))
        self._rows.extend(more)
        self._pending = len(more) == size

    async def close(self) -> None:
        """A cursor whose rows were all read holds nothing in SQLite: no trip to close it."""
        self._rows.clear()
        if self._cursor is not None and self._pending:
            await self._owner.call(self._cursor.close)
        self._pending = False

    @property
    def description(self) -> Any:
        return self._cursor.description if self._cursor is not None else None

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount if self._cursor is not None else -1

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid if self._cursor is not None else None

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value


class Connection(aiosqlite.Connection):
    """Cursors open without a trip; BEGIN waits for the transaction's first statement and goes
    with it; commit and rollback make no trip when the thread is idle and no transaction is
    open (sqlite3 reads that flag without touching the database).

    "Idle" matters: a trip whose caller was cancelled still runs on the thread, and may open a
    transaction after the rollback looked. While any trip is unfinished, commit and rollback go
    to the thread too, behind it, as with plain aiosqlite."""

    _begin: str | None = None  # a BEGIN not sent yet
    _sent = 0  # trips queued (written by the event loop only)
    _done = 0  # the last trip finished (written by the connection's thread only)

    @property
    def in_transaction(self) -> bool:
        return self._begin is not None or not self._idle() or self._conn.in_transaction

    def _idle(self) -> bool:
        return self._done == self._sent

    async def call(self, function: Callable[[], T]) -> T:
        """Run `function` on the connection's thread: one trip."""
        self._sent += 1
        trip = self._sent

        def run() -> T:
            try:
                return function()
            finally:
                self._done = trip

        result: T = await self._execute(run)  # type: ignore[no-untyped-call]
        return result

    _busy_ms = 5000  # the connection's busy timeout (`connect`'s `timeout`)

    def inline(self, read: Callable[[], T]) -> T | None:
        """Run `read` here, on the event loop's thread, when the connection's thread is idle;
        None when it is not, or when SQLite gave the read up (`_GIVE_UP`): stopped at the
        budget (`INLINE_SECONDS`), or on a lock, which the busy timeout is 0 for meanwhile.
        The caller then sends it to the thread, where it starts again. sqlite3 lets the GIL go
        while SQLite works, as it does on the thread."""
        if not (_SERIALIZED and self._running and self._idle()):
            return None  # a trip is unfinished: the thread owns the connection until it ends
        conn = self._conn
        deadline = time.perf_counter() + INLINE_SECONDS

        def budget() -> bool:
            return time.perf_counter() > deadline  # true: SQLite stops with "interrupted"

        try:
            conn.set_progress_handler(budget, _TICK)
            conn.execute("PRAGMA busy_timeout = 0")
            return read()
        except sqlite3.OperationalError as error:
            code = getattr(error, "sqlite_errorcode", None)  # sqlite3's own errors have none
            if code is not None and code & 0xFF in _GIVE_UP:  # the primary code of an extended
                return None
            raise
        finally:
            conn.set_progress_handler(None, _TICK)
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")

    @contextmanager
    async def cursor(self) -> aiosqlite.Cursor:
        return Cursor(self)

    async def commit(self) -> None:
        self._begin = None  # a BEGIN not sent began nothing
        if self.in_transaction:
            await self.call(self._conn.commit)

    async def rollback(self) -> None:
        self._begin = None
        if self.in_transaction:
            await self.call(self._conn.rollback)


def connect(database: str, **kwargs: Any) -> Connection:
    """Like `aiosqlite.connect`, with the connection above; its thread is a daemon, so a
    connection left open never keeps the process alive. The sqlite3 connection may be used
    from the event loop's thread too (`Connection.inline`), never by two threads at once."""

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(
            database, **{**kwargs, "check_same_thread": False}
        )
        return connection

    connection = Connection(connector, iter_chunk_size=64)
    connection._thread.daemon = True
    connection._busy_ms = round(kwargs.get("timeout", 5.0) * 1000)  # sqlite3's default: 5 s
    return connection
