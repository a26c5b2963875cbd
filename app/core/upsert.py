"""An INSERT that adds to the row of the same key, on every database: how totals kept on write
(ADR 0019) stay right when two transactions add to the same row at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Table, func
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
