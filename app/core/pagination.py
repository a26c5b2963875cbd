"""List queries: paging, sorting and the filter helpers every resource list uses.

A resource's query model subclasses `ListQuery`, narrows `sort_by` to its whitelist and adds
its filters; unknown query parameters are refused (422) because the model forbids extras.

Every list also takes `updated_since` (inclusive) and `updated_before` (exclusive) on its rows'
change time (`changed_at`: `updated_at`, or the creation time of rows that are only ever
appended); with `updated_since` the page is in change order, oldest first, then by id, whatever
`sort_by` says: the order an incremental sync reads in (ADR 0034; the recipe: docs/Product.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

import orjson
from cachetools import TLRUCache
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, Select, Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.util import find_tables
from starlette.responses import Response

from app.core import clock
from app.core.schemas import SafeValues, UTCDateTime

T = TypeVar("T")
MAX_LIMIT = 1000
MAX_EXPORT_ROWS = 1_000_000


class ListQuery(SafeValues):
    model_config = ConfigDict(extra="forbid")

    skip: int = Field(default=0, ge=0, le=10_000_000, description="Rows to skip")
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT, description="Rows to return (1-1000)")
    sort_by: str = Field(default="id", description="Column to sort by (see the allowed values)")
    order: Literal["asc", "desc"] = "asc"
    include_total: bool = Field(
        default=True,
        description="Count every matching row into `total` (a scan on huge tables; "
        "`false` skips it, `has_more` still says whether a next page exists)",
    )
    updated_since: UTCDateTime | None = Field(
        default=None,
        description="Only rows changed at or after this time (inclusive), and the page ordered "
        "by change time, oldest first, then id (`sort_by` and `order` are not used): the "
        "incremental sync's read. The change time is `updated_at`; on lists whose rows are "
        "never edited, their creation time (`created_at`, an audit event's `at`)",
    )
    updated_before: UTCDateTime | None = Field(
        default=None, description="Only rows changed before this time (exclusive)"
    )

    @model_validator(mode="after")
    def _ranges_in_order(self) -> ListQuery:
        for name in type(self).model_fields:
            if name.endswith("_from"):
                low, high = getattr(self, name), getattr(self, name[: -len("_from")] + "_to", None)
                if low is not None and high is not None and low > high:
                    raise ValueError(f"{name} is after {name[: -len('_from')]}_to")
        since, before = self.updated_since, self.updated_before
        if since is not None and before is not None and since >= before:
            raise ValueError("updated_since is not before updated_before")
        return self


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int | None = Field(description="null when include_total=false")
    skip: int
    limit: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class Counted:
    total: int | None
    has_more: bool


def eq(column: Any, value: object) -> ColumnElement[bool] | None:
    return None if value is None else column == value


def contains_any(value: str | None, *columns: Any) -> ColumnElement[bool] | None:
    """`value` found (any case) in at least one of `columns`."""
    if not value:
        return None
    return or_(*(column.icontains(value, autoescape=True) for column in columns))


def day_range(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """[start's local midnight, the day after end's) in UTC: both ends inclusive as the
    workshop's days (app.core.clock; a day is 23 or 25 hours when the clocks change)."""
    low = clock.day_start(start) if start else None
    high = clock.day_start(end + timedelta(days=1)) if end else None
    return low, high


def between(
    column: Any, low: date | datetime | None, high: date | datetime | None
) -> list[ColumnElement[bool]]:
    """Inclusive range; either end may be open."""
    parts = []
    if low is not None:
        parts.append(column >= low)
    if high is not None:
        parts.append(column <= high)
    return parts


def where(*conditions: ColumnElement[bool] | list[ColumnElement[bool]] | None) -> list[Any]:
    """Flatten conditions, dropping the filters that were not given."""
    flat: list[Any] = []
    for condition in conditions:
        if isinstance(condition, list):
            flat.extend(condition)
        elif condition is not None:
            flat.append(condition)
    return flat


def ordering(sort: Any, tiebreak: Any, order: str) -> list[Any]:
    """ORDER BY terms. Empty values sort last in both directions on every database
    (PostgreSQL alone would put them first when descending)."""
    column = getattr(sort, "expression", sort)
    terms = [sort.is_(None)] if getattr(column, "nullable", False) else []
    if order == "desc":
        return [*terms, sort.desc(), tiebreak.desc()]
    return [*terms, sort, tiebreak]


# The column that says when a row last changed, by table: the first of these it has.
CHANGE_COLUMNS = ("updated_at", "deleted_at", "created_at", "at")


def changed_at(tiebreak: Any) -> Any:
    """The change-time column of the table of `tiebreak` (a list's id column)."""
    table = getattr(tiebreak, "expression", tiebreak).table
    for name in CHANGE_COLUMNS:
        if name in table.c:
            return table.c[name]
    raise LookupError(f"{table.name} has no change time ({', '.join(CHANGE_COLUMNS)})")


def changed(query: ListQuery, tiebreak: Any) -> list[ColumnElement[bool]]:
    """The `updated_since` (inclusive) and `updated_before` (exclusive) filters of `query`."""
    if query.updated_since is None and query.updated_before is None:
        return []
    column = changed_at(tiebreak)
    parts = []
    if query.updated_since is not None:
        parts.append(column >= query.updated_since)
    if query.updated_before is not None:
        parts.append(column < query.updated_before)
    return parts


def list_order(query: ListQuery, sort: Any, tiebreak: Any) -> list[Any]:
    """ORDER BY of a list page: change time then id, oldest first, with `updated_since` (an
    index on the change time serves it: its entries end in the primary key on SQLite and
    MariaDB; PostgreSQL adds an incremental sort on id); else `sort_by` in `order`."""
    if query.updated_since is not None:
        return [changed_at(tiebreak), tiebreak]
    return ordering(sort, tiebreak, query.order)


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    query: ListQuery,
    *,
    sort: Any,
    tiebreak: Any,
    columns: bool = False,
    counted: Select[Any] | None = None,
) -> tuple[Sequence[Any], Counted]:
    """One page of `stmt` sorted by `sort` (then `tiebreak`, so pages never overlap); whether
    more follow (one row more is read to know), and, unless the query says not to, the count of
    every row matching the same filters. Rows are ORM objects, or with `columns` dicts of the
    selected columns (no ORM objects to build: the fast way for a list of many rows).

    `counted`, the same filters over fewer tables, is counted instead when the page's other
    tables cannot change the count (a to-one outer join that brings a name): at ten million
    work orders, counting them with their welders' join took three times as long."""
    stmt = stmt.where(*changed(query, tiebreak))
    rows, has_more = await read_page(session, stmt, query, sort, tiebreak, columns=columns)
    total: int | None = None
    if query.skip == 0 and not has_more:
        total = len(rows)  # the whole result is on this page: no count query needed
    elif query.include_total:
        # count(*) over the same FROM and WHERE: no subquery, so an index can answer it
        source = stmt if counted is None else counted.where(*changed(query, tiebreak))
        count = source.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
        total = await count_total(session, count)
    return rows, Counted(total, has_more)


async def read_page(
    session: AsyncSession,
    stmt: Select[Any],
    query: ListQuery,
    sort: Any,
    tiebreak: Any,
    *,
    columns: bool = False,
) -> tuple[Sequence[Any], bool]:
    """The page `query` asks for, and whether more rows follow: one row more than the page is
    read to know, without counting. (`paginate` adds the `updated_*` filters; a caller of this
    one adds `changed(query, tiebreak)` to its own.)"""
    page = stmt.order_by(*list_order(query, sort, tiebreak))
    page = page.offset(query.skip).limit(query.limit + 1)
    rows = await read_columns(session, page) if columns else (await session.scalars(page)).all()
    return rows[: query.limit], len(rows) > query.limit


async def read_columns(session: AsyncSession, stmt: Select[Any]) -> list[dict[str, Any]]:
    """The rows of a select of columns, as dicts, through the session's connection: Core
    execution, without the ORM's result machinery (a third of a list page's cost)."""
    result = await (await session.connection()).execute(stmt)
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


class TotalsCache:
    """Counts of recent list queries, kept `LIST_TOTAL_CACHE_SECONDS` per worker, or ten times
    as long as the count took when that is longer (`keep_for`): a count scans every matching
    row, which on a million-row table costs more than the page itself, and a list is read again
    and again (paging, pull to refresh). `has_more` and the rows never lag; `total` lags no
    write of this worker (a commit that wrote a table drops the counts read from it,
    app/core/writes.py) and another worker's by that long at most. 0 turns it off
    (docs/Architecture_Decisions.md, ADR 0017, 0038, 0043).

    Requests that miss the same count at once wait for the first one's answer instead of each
    scanning the table (under load, every expiry used to start a count per open connection)."""

    def __init__(self, seconds: float, timer: Callable[[], float] = time.monotonic) -> None:
        self._timer = timer
        self._entries: TLRUCache[Hashable, tuple[int, Seen, float]] | None = (
            TLRUCache(
                maxsize=4096,
                ttu=lambda _key, entry, now: now + keep_for(seconds, entry[2]),
                timer=timer,
            )
            if seconds > 0
            else None
        )
        self._running: dict[Hashable, asyncio.Future[int | None]] = {}
        self._versions: dict[str, int] = {}  # a table's, one up per commit that wrote it

    def forget(self, tables: Iterable[str]) -> None:
        """Tables a commit wrote: the counts read from them are not used again."""
        versions = self._versions
        for table in tables:
            versions[table] = versions.get(table, 0) + 1

    def _current(self, seen: Seen) -> bool:
        versions = self._versions
        return all(versions.get(table, 0) == version for table, version in seen)

    async def count(self, session: AsyncSession, count: Select[Any]) -> int:
        if self._entries is None:
            return await _count(session, count)
        key = _key(count)
        cached = self._entries.get(key)
        if cached is not None and self._current(cached[1]):
            return cached[0]
        running = self._running.get(key)
        if running is not None:
            counted = await asyncio.shield(running)
            return counted if counted is not None else await _count(session, count)
        running = self._running[key] = asyncio.get_running_loop().create_future()
        counted = None
        try:
            # The versions before counting: a write committed meanwhile makes the count old.
            seen = tuple((t, self._versions.get(t, 0)) for t in _tables(count))
            started = self._timer()
            counted = await _count(session, count)
            self._entries[key] = (counted, seen, self._timer() - started)
        finally:
            del self._running[key]
            running.set_result(counted)  # None: that count failed, each waiter counts itself
        return counted


Seen = tuple[tuple[str, int], ...]
KEPT_PER_SECOND_COUNTED = 10
KEPT_AT_MOST = 300.0  # LIST_TOTAL_CACHE_SECONDS's own bound


def keep_for(seconds: float, took: float) -> float:
    """How long a count that took `took` seconds is kept: LIST_TOTAL_CACHE_SECONDS, or ten
    times as long as it took, up to five minutes. At ten million rows a count takes about a
    second, and kept two seconds it ran almost without pause, a list's throughput falling to a
    quarter of a million rows' (bench/lists.py, ADR 0043); kept ten times its cost, counting
    takes a tenth of a connection's time at most, whatever the table's size."""
    return max(seconds, min(KEPT_AT_MOST, KEPT_PER_SECOND_COUNTED * took))


def _tables(stmt: Select[Any]) -> set[str]:
    """Every table the count reads, those of its subqueries too."""
    return {t.name for t in find_tables(stmt, include_joins=True) if isinstance(t, Table)}


def _key(stmt: Select[Any]) -> Hashable:
    """The statement's structure and its values: what SQLAlchemy's own statement cache keys on,
    without compiling the SQL."""
    cache_key = stmt._generate_cache_key()
    if cache_key is None:  # an element that cannot be cached: fall back to the SQL text
        compiled = stmt.compile()
        return str(compiled), repr(sorted(compiled.params.items()))
    return cache_key.key, repr([p.effective_value for p in cache_key.bindparams])


async def _count(session: AsyncSession, count: Select[Any]) -> int:
    return int(await session.scalar(count) or 0)


async def count_total(session: AsyncSession, count: Select[Any]) -> int:
    """`count` through the request's app's TotalsCache (a session outside a request counts)."""
    totals: TotalsCache | None = session.info.get("totals")
    if totals is None:
        return await _count(session, count)
    return await totals.count(session, count)


def page_of(items: list[T], counted: Counted, query: ListQuery) -> Page[T]:
    return Page[T](items=items, **_paged(counted, query))


def _paged(counted: Counted, query: ListQuery) -> dict[str, Any]:
    """A page's fields besides its items."""
    return {
        "total": counted.total,
        "skip": query.skip,
        "limit": query.limit,
        "has_more": counted.has_more,
    }


class JSONPage(Response):
    """A list page written straight from its items' values, the bytes pydantic writes for the
    route's page model (its `response_model`, which the docs show): no model is built and none
    is serialised, a third of a hot list's time (ADR 0043). For pages whose items are built in
    that model's field order from typed columns: JSON values, aware UTC datetimes, dates and
    enums. tests/resources/test_list_json.py holds each such list to pydantic's bytes."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_UTC_Z)


def json_page(
    items: list[dict[str, Any]], counted: Counted, query: ListQuery, **more: Any
) -> JSONPage:
    """A Page's JSON, and `more` fields of the list's own page model (`next_cursor`)."""
    return JSONPage({"items": items, **_paged(counted, query), **more})


class ExportOptions(BaseModel):
    """Added to a list's query for its export: same filters and sort, a file instead of JSON."""

    format: Literal["csv", "xlsx"] = Field(default="csv", description="File format")
    limit: int = Field(default=MAX_EXPORT_ROWS, ge=1, le=MAX_EXPORT_ROWS, description="Rows")


def export_statement(
    model: type[Any], columns: Sequence[str], filters: list[Any], query: ListQuery
) -> Select[Any]:
    """The columns of a list's export: its filters, its order, its skip/limit."""
    return (
        select(*(getattr(model, c) for c in columns))
        .where(*filters, *changed(query, model.id))
        .order_by(*list_order(query, getattr(model, query.sort_by), model.id))
        .offset(query.skip)
        .limit(query.limit)
    )
