"""Insert many rows of one shape with one driver-level `executemany`.

Core's `connection.execute(table.insert(), rows)` builds and processes each row's parameters
in Python (about half of an import's time in the API process). Here the statement is compiled
once for the dialect, each value goes through the very bind processor SQLAlchemy would apply
(dates, JSON), and the rows go to the driver as tuples in the statement's order: the same SQL
and values, for a fraction of the work (ADR 0028). Only for plain INSERTs without defaults to
compute: every column is given in each row. The table written is noted for the caches kept
from it (app/core/writes.py): SQLAlchemy's events do not see a driver-level statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core import writes


class BulkInsert:
    def __init__(self, table: Table, keys: Sequence[str], dialect: Dialect) -> None:
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
        self.order = [(key, processors.get(key)) for key in positions]

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        order = self.order
        return [tuple([p(row[k]) if p else row[k] for k, p in order]) for row in rows]

    async def execute(self, connection: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
        await connection.exec_driver_sql(self.sql, self.parameters(rows))
        if connection.sync_connection is not None:  # a statement the engine's events miss
            writes.note(connection.sync_connection, self.table)
