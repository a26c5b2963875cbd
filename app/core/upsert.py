"""An INSERT that adds to the row of the same key, on every database: how totals kept on write
(ADR 0019) stay right when two transactions add to the same row at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Insert, Table, bindparam, func, select, tuple_, update
from sqlalchemy.dialects import mysql, postgresql, sqlite


def upsert_adding(
    table: Table,
    dialect: str,
    key: Sequence[str],
    sums: Sequence[str],
    least: Sequence[str] = (),
    greatest: Sequence[str] = (),
) -> Insert:
    """INSERT ... ON CONFLICT (key) / ON DUPLICATE KEY: add `sums`, keep the least of `least`
    and the greatest of `greatest` (NULL on either side means "no value yet")."""
    stmt: Any = (
        mysql if dialect == "mysql" else postgresql if dialect == "postgresql" else sqlite
    ).insert(table)
    new = stmt.inserted if dialect == "mysql" else stmt.excluded
    # SQLite's two-argument min() and max() are the LEAST() and GREATEST() of the others
    low, high = (func.min, func.max) if dialect == "sqlite" else (func.least, func.greatest)

    def either(pick: Any, name: str) -> Any:
        old, other = table.c[name], new[name]
        return pick(func.coalesce(old, other), func.coalesce(other, old))

    changes = {name: table.c[name] + new[name] for name in sums}
    changes |= {name: either(low, name) for name in least}
    changes |= {name: either(high, name) for name in greatest}
    if dialect == "mysql":
        return stmt.on_duplicate_key_update(**changes)  # type: ignore[no-any-return]
    return stmt.on_conflict_do_update(index_elements=key, set_=changes)  # type: ignore[no-any-return]


def add_rows(
    connection: Connection,
    table: Table,
    key: Sequence[str],
    sums: Sequence[str],
    rows: list[dict[str, Any]],
) -> None:
    """Add `rows` (sorted by `key`) to the table's `sums` with `upsert_adding`; on MariaDB the
    rows already there by an UPDATE each first, and only the new ones by the upsert.

    InnoDB's ON DUPLICATE KEY UPDATE locks the duplicate's index entry with the gap before it,
    and the entry after it too: two writers adding to neighbouring keys of one day, one of them
    inserting a new key into a gap the other waits on, deadlocked (1213, seen with concurrent
    work-order edits). An UPDATE by the unique key locks the entry alone, so only the first
    writes of a new key still go through the upsert."""
    if connection.dialect.name == "mysql" and rows:
        columns = [table.c[name] for name in key]
        wanted = [tuple(row[name] for name in key) for row in rows]
        there = set(connection.execute(select(*columns).where(tuple_(*columns).in_(wanted))).all())
        old = [row for row, k in zip(rows, wanted, strict=True) if k in there]
        if old:
            statement = (
                update(table)
                .where(*(c == bindparam(f"key_{c.name}") for c in columns))
                .values({name: table.c[name] + bindparam(name) for name in sums})
            )
            connection.execute(
                statement, [{**{f"key_{n}": row[n] for n in key}, **row} for row in old]
            )
        rows = [row for row, k in zip(rows, wanted, strict=True) if k not in there]
    if rows:
        connection.execute(upsert_adding(table, connection.dialect.name, key, sums), rows)
