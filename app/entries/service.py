"""Workshop entries: read in pages. Millions of rows, so deep pages use a keyset cursor
(`id > after_id`, on the primary key) instead of OFFSET, and the count can be skipped."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.pagination import between, eq, ordering, where
from app.entries.schemas import EntryPage, EntryQuery, EntryRead
from app.models import WorkshopEntry

E = WorkshopEntry


async def get_entry(session: AsyncSession, entry_id: int) -> WorkshopEntry:
    entry = await session.get(E, entry_id)
    if entry is None:
        raise NotFound(f"Workshop entry {entry_id} does not exist")
    return entry


async def list_entries(session: AsyncSession, query: EntryQuery) -> EntryPage:
    filters = where(
        eq(E.machine_id, query.machine_id),
        eq(E.template_id, query.template_id),
        eq(E.import_id, query.import_id),
        between(E.recorded_at, query.recorded_from, query.recorded_to),
    )
    stmt = select(E).where(*filters)
    if query.after_id is not None:
        stmt = stmt.where(E.id > query.after_id)
    # One row more than asked tells whether there is a next page without counting.
    rows = list(
        (
            await session.scalars(
                stmt.order_by(*ordering(getattr(E, query.sort_by), E.id, query.order))
                .offset(query.skip)
                .limit(query.limit + 1)
            )
        ).all()
    )
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    total = None
    if query.include_total:
        total = await session.scalar(select(func.count()).select_from(E).where(*filters)) or 0
    cursor = rows[-1].id if has_more and query.sort_by == "id" and query.order == "asc" else None
    return EntryPage(
        items=[EntryRead.model_validate(r) for r in rows],
        total=total,
        skip=query.skip,
        limit=query.limit,
        has_more=has_more,
        next_cursor=cursor,
    )
