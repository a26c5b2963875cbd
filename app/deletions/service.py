"""The deletions feed, read: the rows app/core/deletions.py recorded, in the lists' sync order
(deleted_at, then id), and the horizon before which it no longer knows (ADR 0034)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import SyncExpired
from app.core.pagination import Page, eq, page_of, paginate, where
from app.deletions.schemas import DeletionQuery, DeletionRead
from app.models import Deletion
from app.models.base import utcnow

D = Deletion


def horizon(keep_days: int, now: datetime | None = None) -> datetime:
    """The earliest time the feed still answers for: every deletion since is kept."""
    return (now or utcnow()) - timedelta(days=keep_days)


async def list_deletions(
    session: AsyncSession, query: DeletionQuery, keep_days: int, *, hidden: Iterable[str]
) -> Page[DeletionRead]:
    """410 when `since` is before the horizon: deletions older than it were pruned, so the
    client's copy may hold rows this feed no longer mentions."""
    since = query.updated_since
    if since is not None and since < horizon(keep_days):
        raise SyncExpired(
            f"Deletions are kept {keep_days} days; since {since.isoformat()} is older. "
            "Sync in full again.",
            extra={"horizon": horizon(keep_days).isoformat()},
        )
    unseen = list(hidden)
    hide = D.resource.not_in(unseen) if unseen else None
    columns: list[Any] = [D.resource, D.resource_id.label("id"), D.deleted_at]
    stmt = select(*columns).where(*where(eq(D.resource, query.resource), hide))
    rows, counted = await paginate(
        session, stmt, query, sort=D.deleted_at, tiebreak=D.id, columns=True
    )
    return page_of([DeletionRead.model_validate(r) for r in rows], counted, query)


PRUNE_BATCH = 10_000


async def prune(session: AsyncSession, keep_days: int) -> int:
    """Delete up to PRUNE_BATCH deletions older than the horizon (by id: one statement on
    every database); how many."""
    old = select(D.id).where(D.deleted_at < horizon(keep_days)).limit(PRUNE_BATCH)
    ids = list(await session.scalars(old))
    if ids:
        await session.execute(delete(D).where(D.id.in_(ids)))
    return len(ids)
