"""Insert many rows of one shape with one driver-level `executemany`.

Core's `connection.execute(table.insert(), rows)` builds and processes each row's parameters
in Python (about half of an import's time in the API process). Here the statement is compiled
once for the dialect, rows come as tuples of values in the order of `keys` (no dict per row),
only the values of columns with a bind processor (dates, JSON) go through the very processor
SQLAlchemy would apply, and the rows go to the driver as tuples in the statement's order: the
same SQL and values, for a fraction of the work (ADR 0028, 0044). Only for plain INSERTs
without defaults to compute: every column is given in each row. The table written is noted
for the caches kept from it (app/core/writes.py): SQLAlchemy's events do not see a
driver-level statement.

On MariaDB the rows go in the binary protocol instead (COM_STMT_BULK_EXECUTE, asyncmy's
prepared statements): no value is escaped into SQL text, which was most of the cost of a wide
row there (ADR 0039). Rows the driver cannot send so (a column mixing types) go as text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, String, Table
from sqlalchemy.dialects.mysql.base import MySQLDialect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator, TypeEngine

from app.core import writes

# Bytes of text per binary batch: well under MariaDB's max_allowed_packet (16 MB by default).
BINARY_BATCH_BYTES = 4 << 20
# Prepared statements a connection keeps for the batches' shapes (column sets), reused across
# imports; the oldest is closed when there are more.
STATEMENT_CACHE = 8


def _unbounded(kind: TypeEngine[Any]) -> bool:
    """A column whose values' length has no bound in its type (TEXT, JSON)."""
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, JSON) or (isinstance(kind, String) and not kind.length)


class BulkInsert:
    def __init__(self, table: Table, keys: Sequence[str], dialect: Dialect) -> None:
        self.binary = isinstance(dialect, MySQLDialect)
        compiled = table.insert().compile(dialect=dialect, column_keys=list(keys))
        positions = compiled.positiontup
        if positions is None:  # pragma: no cover - the three dialects here are positional
            raise ValueError(f"{dialect.name}: a positional paramstyle is needed")
        processors: dict[str, Callable[[Any], Any]] = {
            key: process
            for key, process in compiled._bind_processors.items()
            if callable(process)  # a sequence only for expanding IN parameters: none here
        }
        self.sql = str(compiled)
        self.table = table.name
        self.insert, self.dialect, self.keys = table.insert(), dialect, list(positions)
        # may be left out when NULL: nothing but NULL would take their place
        self.optional = [table.c[key].server_default is None for key in positions]
        self.statements: dict[tuple[int, ...], str] = {}  # kept columns → statement
        given = list(keys)
        if sorted(given) != sorted(positions):
            raise ValueError(f"keys {given} are not the statement's columns {positions}")
        # A row's values in the statement's order (None: the keys are in that order already),
        # and the positions of the values a processor changes.
        self.reorder = None if given == positions else itemgetter(*map(given.index, positions))
        # A processor is called for values only: what it makes of NULL is known once.
        self.processed = [
            (i, processors[k], processors[k](None))
            for i, k in enumerate(positions)
            if k in processors
        ]
        # What a row may weigh in a binary batch: its unbounded texts (TEXT, JSON) are
        # measured, a VARCHAR(n) counts n and any other value 8 bytes.
        unbounded = [i for i, k in enumerate(positions) if _unbounded(table.c[k].type)]
        if len(unbounded) == 1:
            (only,) = unbounded
            self.texts: Callable[[tuple[Any, ...]], tuple[Any, ...]] = lambda row: (row[only],)
        else:
            self.texts = itemgetter(*unbounded) if unbounded else lambda row: ()
        self.row_bytes = 64 + sum(
            getattr(table.c[k].type, "length", None) or 8
            for i, k in enumerate(positions)
            if i not in unbounded
        )

    def parameters(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """The driver's parameters of rows of values in the order of `keys`."""
        reorder, processed = self.reorder, self.processed
        ordered = [reorder(row) for row in rows] if reorder else rows
        if not processed:
            return [tuple(row) for row in ordered]
        out = []
        for row in ordered:
            values = list(row)
            for i, process, null in processed:
                value = values[i]
                values[i] = null if value is None else process(value)
            out.append(tuple(values))
        return out

    async def execute(self, connection: AsyncConnection, rows: Sequence[Sequence[Any]]) -> None:
        parameters = self.parameters(rows)
        driver = (await connection.get_raw_connection()).driver_connection
        if self.binary and getattr(driver, "_bulk_supported", False):
            for batch in self._batches(parameters):
                await self._binary(connection, driver, batch)
        elif parameters:
            await connection.exec_driver_sql(self.sql, parameters)
        if connection.sync_connection is not None:  # a statement the engine's events miss
            writes.note(connection.sync_connection, self.table)

    def _batches(self, parameters: list[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
        """The rows in runs of at most BINARY_BATCH_BYTES of text (a row: one at least); a
        row counts its unbounded texts' lengths, and the longest a bounded one can be."""
        start, size = 0, 0
        fixed, texts = self.row_bytes, self.texts
        for end, row in enumerate(parameters):
            length = fixed + sum(map(len, filter(None, texts(row))))
            if size + length > BINARY_BATCH_BYTES and end > start:
                yield parameters[start:end]
                start, size = end, 0
            size += length
        if start < len(parameters):
            yield parameters[start:]

    async def _binary(
        self, connection: AsyncConnection, driver: Any, batch: list[tuple[Any, ...]]
    ) -> None:
        """`batch` by asyncmy's COM_STMT_BULK_EXECUTE path, which its executemany takes while
        the connection may cache prepared statements (`stmt_cache_size`, allowed here only:
        elsewhere every query would go as a prepared statement). SQLAlchemy runs the statement,
        so errors and lost connections are handled as for any other. The columns NULL in every
        row are left out (the server needs a type for each column); if one has a server default
        the batch keeps it, and asyncmy sends the batch as text."""
        width = len(self.keys)
        keep = tuple(i for i in range(width) if any(row[i] is not None for row in batch))
        if any(not self.optional[i] for i in range(width) if i not in keep):
            keep = tuple(range(width))
        sql = self.statements.get(keep)
        if sql is None:
            columns = [self.keys[i] for i in keep]
            sql = str(self.insert.compile(dialect=self.dialect, column_keys=columns))
            self.statements[keep] = sql
        if len(keep) < width:
            batch = [tuple(row[i] for i in keep) for row in batch]
        cache = driver._stmt_cache_size
        driver._stmt_cache_size = max(cache, STATEMENT_CACHE)
        try:
            await connection.exec_driver_sql(sql, batch)
        finally:
            driver._stmt_cache_size = cache
