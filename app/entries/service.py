"""Workshop entries: read in pages. Millions of rows, so deep pages use a keyset cursor
(`id > after_id`, on the primary key) instead of OFFSET, and the count can be skipped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.conformance.runs import is_run_template
from app.core.errors import NotFound
from app.core.pagination import (
    Counted,
    JSONPage,
    between,
    changed,
    count_total,
    eq,
    json_page,
    list_order,
    read_page,
    where,
)
from app.entries.schemas import EntryExport, EntryQuery, item
from app.models import Template, WorkshopEntry

E = WorkshopEntry


async def get_entry(session: AsyncSession, entry_id: int) -> WorkshopEntry:
    entry = await session.get(E, entry_id)
    if entry is None:
        raise NotFound(f"Workshop entry {entry_id} does not exist")
    return entry


def _filters(query: EntryQuery) -> list[Any]:
    return where(
        eq(E.machine_id, query.machine_id),
        eq(E.template_id, query.template_id),
        eq(E.import_id, query.import_id),
        eq(E.verdict, query.verdict),
        eq(E.welder_id, query.welder_id),
        eq(E.wps_id, query.wps_id),
        eq(E.weld_id, query.weld_id),
        between(E.recorded_at, query.recorded_from, query.recorded_to),
        changed(query, E.id),  # on created_at: entries are written once (ADR 0034)
    )


async def list_entries(session: AsyncSession, query: EntryQuery) -> JSONPage:
    """The page as EntryPage's JSON (`JSONPage`)."""
    filters = _filters(query)
    stmt = select(*E.__table__.c).where(*filters)  # columns: no ORM objects to build
    if query.after_id is not None:
        stmt = stmt.where(E.id > query.after_id)
    rows, has_more = await read_page(
        session, stmt, query, getattr(E, query.sort_by), E.id, columns=True
    )
    total = None
    if query.include_total:
        total = await count_total(session, select(func.count()).select_from(E).where(*filters))
    cursor = rows[-1]["id"] if has_more and query.sort_by == "id" and query.order == "asc" else None
    items = [item(row) for row in rows]
    return json_page(items, Counted(total, has_more), query, next_cursor=cursor)


BASE_COLUMNS = ("id", "machine_id", "template_id", "import_id", "row_number", "recorded_at")
RUN_COLUMNS = ("welder_id", "wps_id", "weld_id", "pass_seq", "process", "verdict", "heat_input")


async def export_entries(
    session: AsyncSession, query: EntryExport
) -> tuple[list[str], Select[Any], list[str] | None, bool]:
    """Header, query, (with a template filter) the data fields that become columns of their
    own (without one, `data` is one JSON column), and whether the weld-run columns are in: with
    a run template, or a filter on verdict, welder, WPS or weld."""
    fields = None
    runs = any(v is not None for v in (query.verdict, query.welder_id, query.wps_id, query.weld_id))
    if query.template_id is not None:
        template = await session.get(Template, query.template_id)
        if template is None:
            raise NotFound(f"Template {query.template_id} does not exist")
        fields = [m["field"] for m in template.mapping]
        runs = runs or is_run_template(fields)
    names = (*BASE_COLUMNS, *(RUN_COLUMNS if runs else ()))
    stmt = select(*(getattr(E, c) for c in names), E.conformance, E.data).where(*_filters(query))
    if query.after_id is not None:
        stmt = stmt.where(E.id > query.after_id)
    stmt = (
        stmt.order_by(*list_order(query, getattr(E, query.sort_by), E.id))
        .offset(query.skip)
        .limit(query.limit)
    )
    header = [*names, *(["reasons"] if runs else []), *(fields or ["data"])]
    return header, stmt, fields, runs


async def flatten(
    rows: AsyncIterator[Sequence[Any]], fields: list[str] | None, runs: bool
) -> AsyncIterator[Sequence[Any]]:
    """Export rows: a run's reasons as one text ("; " between them), then the data."""
    async for row in rows:
        *columns, conformance, data = row
        if runs:
            columns.append("; ".join(r["text"] for r in (conformance or {}).get("reasons", [])))
        yield [*columns, *([data.get(f) for f in fields] if fields else [data])]
