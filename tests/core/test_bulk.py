"""BulkInsert writes what Core's insert would, on the three databases; on MariaDB by the binary
bulk protocol, with the text protocol for what that cannot carry (app/core/bulk.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core import bulk
from app.core.bulk import BulkInsert
from app.core.db import Database

pytestmark = pytest.mark.anyio

PROBE = sa.Table(
    "bulk_probe",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("n", sa.Integer, nullable=True),
    sa.Column("x", sa.Float, nullable=True),
    sa.Column("s", sa.String(20), nullable=True),
    sa.Column("big", sa.Text, nullable=True),
    sa.Column("at", sa.DateTime, nullable=True),
    sa.Column("doc", sa.JSON, nullable=True),
    sa.Column("flag", sa.Integer, nullable=True, server_default="7"),
)
KEYS = ["id", "n", "x", "s", "big", "at", "doc", "flag"]


@pytest.fixture
async def probe(db: Database) -> AsyncIterator[Database]:
    async with db.engine.begin() as conn:
        await conn.run_sync(PROBE.create)
    try:
        yield db
    finally:
        async with db.engine.begin() as conn:
            await conn.run_sync(PROBE.drop)


def row(i: int, **values: Any) -> dict[str, Any]:
    base = {
        "id": i,
        "n": i,
        "x": i / 4,
        "s": f"s{i}",
        "big": None,
        "at": datetime(2026, 11, 30, 8, 15, i % 60),  # DATETIME: whole seconds on MariaDB
        "doc": {"i": i, "é": [1, None]},
        "flag": 1,
    }
    return {**base, **values}


async def write(
    db: Database, rows: list[dict[str, Any]], keys: list[str] = KEYS
) -> tuple[list[tuple[Any, ...]], int]:
    """The rows as read back, and how many prepared statements the server ran (MariaDB: one
    per binary batch). The rows go as tuples in the order of `keys`."""
    async with db.engine.begin() as conn:
        executed = await _executed(conn)
        values = [tuple(r[k] for k in keys) for r in rows]
        await BulkInsert(PROBE, keys, conn.dialect).execute(conn, values)
        executed = await _executed(conn) - executed
    async with db.engine.connect() as conn:
        read = (await conn.execute(sa.select(PROBE).order_by(PROBE.c.id))).all()
    return [tuple(r) for r in read], executed


async def _executed(conn: AsyncConnection) -> int:
    if conn.dialect.name != "mysql":
        return 0
    status = await conn.execute(sa.text("SHOW SESSION STATUS LIKE 'Com_stmt_execute'"))
    return int(status.one()[1])


def expected(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(r[k] for k in KEYS) for r in rows]


async def test_rows_round_trip_with_a_column_null_in_every_row(probe: Database) -> None:
    rows = [row(i, n=None) for i in range(1, 301)]
    read, binary = await write(probe, rows)
    assert read == expected(rows)  # NULL, not left to a default
    assert binary == (1 if probe.dialect == "mysql" else 0)


async def test_values_in_another_order_than_the_tables(probe: Database) -> None:
    rows = [row(i, n=None if i % 2 else i) for i in range(1, 6)]
    read, _ = await write(probe, rows, list(reversed(KEYS)))
    assert read == expected(rows)


async def test_keys_must_be_the_statements_columns() -> None:
    dialect = sa.create_engine("sqlite://").dialect
    with pytest.raises(ValueError, match="are not the statement's columns"):
        BulkInsert(PROBE, [*KEYS, "n"], dialect)


async def test_a_column_mixing_types_goes_as_text(probe: Database) -> None:
    rows = [row(1, x=2), row(2, x=2.5)]  # an int, then a float: not one binary type
    read, binary = await write(probe, rows)
    assert read == expected(rows)
    assert binary == 0


async def test_a_null_column_with_a_server_default_stays_null(probe: Database) -> None:
    rows = [row(i, flag=None) for i in range(1, 4)]
    read, _ = await write(probe, rows)
    assert [r[-1] for r in read] == [None, None, None]  # not the server default, 7
    assert read == expected(rows)


@pytest.fixture
def sizes(monkeypatch: Any) -> list[int]:
    """The number of rows of each binary batch sent, with batches of 10,000 bytes at most."""
    monkeypatch.setattr(bulk, "BINARY_BATCH_BYTES", 10_000)
    sent: list[int] = []
    send = BulkInsert._binary

    async def counted(self: BulkInsert, connection: Any, driver: Any, batch: Any) -> None:
        sent.append(len(batch))
        await send(self, connection, driver, batch)

    monkeypatch.setattr(BulkInsert, "_binary", counted)
    return sent


async def test_big_rows_go_in_several_batches(probe: Database, sizes: list[int]) -> None:
    rows = [row(i, big="x" * 3_000) for i in range(1, 11)]
    read, binary = await write(probe, rows)
    assert read == expected(rows)
    if probe.dialect == "mysql":
        assert sizes == [3, 3, 3, 1]  # at most 10,000 bytes of text each
        assert binary >= len(sizes)


async def test_a_text_null_in_the_first_row_still_counts(probe: Database, sizes: list[int]) -> None:
    """A batch is cut by what each row holds, not by the columns that held text in the first."""
    rows = [row(1), *(row(i, big="x" * 3_000) for i in range(2, 11))]
    read, _ = await write(probe, rows)
    assert read == expected(rows)
    if probe.dialect == "mysql":
        assert sizes == [4, 3, 3]


async def test_a_bad_row_fails_the_insert(probe: Database) -> None:
    rows = [row(1), row(1)]  # the same primary key twice
    with pytest.raises(sa.exc.IntegrityError):
        await write(probe, rows)
    read, _ = await write(probe, [])
    assert read == []
