"""Attachments go with their owner, and files go with the transaction that drops them.

Deleting a row through the generic data layer (`Repository.delete`, so every `crud.delete`
and `crud.remove`) deletes the attachments of the row and of the rows the database deletes
with it (ON DELETE CASCADE: an employee's qualifications, a work order's welds), whatever the
resource: the owners are `app.models.OWNERS`, the cascades are read from the metadata.

Their rows go in the same transaction. Their files are deleted just before it commits: a
service registers the keys (`discard_on_commit`) and the request's session deletes them
(`discard_files`, from `app.core.db.get_session`) once the route has returned, so work the
route does after the delete can still fail and leave every file in place. A storage failure
is a 503 and the transaction rolls back, as when an import is undone. Only requests discard
files: a unit of work outside HTTP (`Database.run`) that deleted an owner would leave its
files behind (none does today).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from sqlalchemy import ColumnElement, ForeignKey, Table, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import deletions
from app.core.errors import StorageUnavailable
from app.models import OWNERS, Attachment, Base
from app.models.base import Resource
from app.storage.base import Storage, StorageError

_DISCARD = "discard_files"
ATTACHMENTS: Table = Attachment.__table__  # type: ignore[assignment]
_OWNER_NAMES: dict[Table, str] = {model.__table__: name for name, model in OWNERS.items()}  # type: ignore[misc]


def discard_on_commit(session: AsyncSession, keys: Iterable[str]) -> None:
    """Delete these stored files just before the request's transaction commits."""
    session.info.setdefault(_DISCARD, []).extend(keys)


async def discard_files(session: AsyncSession, storage: Storage) -> None:
    """Delete the files registered for the transaction (call just before it commits); a
    storage failure is StorageUnavailable, and the caller rolls back."""
    keys: list[str] = session.info.pop(_DISCARD, [])
    try:
        for key in keys:
            await storage.delete(key)
    except StorageError as exc:
        raise StorageUnavailable("The file storage is unavailable; nothing was deleted") from exc


async def drop_attachments(session: AsyncSession, obj: Resource) -> None:
    """Delete the attachments of `obj` and of the rows deleted with it: rows now, files just
    before the commit. Call before `obj` itself is deleted (its cascades are read first)."""
    owned = await _owned(session, obj.__table__, [obj.id])  # type: ignore[arg-type]
    if not owned:
        return
    condition: ColumnElement[bool] = or_(
        *(and_(Attachment.owner == name, Attachment.owner_id.in_(ids)) for name, ids in owned)
    )
    keys = list(await session.scalars(select(Attachment.storage_key).where(condition)))
    if keys:
        await deletions.record_where(session, ATTACHMENTS, condition)
        await session.execute(delete(Attachment).where(condition))
        discard_on_commit(session, keys)


async def _owned(
    session: AsyncSession, table: Table, ids: list[int]
) -> list[tuple[str, list[int]]]:
    """(owner name, ids) of the rows `ids` of `table` and of the rows deleted with them."""
    found = [(_OWNER_NAMES[table], ids)] if table in _OWNER_NAMES else []
    for child, fk in _cascades(table):
        child_ids = list(await session.scalars(select(child.c.id).where(fk.parent.in_(ids))))
        if child_ids:
            found += await _owned(session, child, child_ids)
    return found


@cache
def _cascades(table: Table) -> list[tuple[Table, ForeignKey]]:
    """The tables whose rows the database deletes with a row of `table` (ON DELETE CASCADE)
    and that are owners or lead to owners; the others (stock movements, entries) are not
    read."""
    return [
        (other, fk)
        for other in Base.metadata.sorted_tables
        for fk in other.foreign_keys
        if fk.column.table is table and fk.ondelete == "CASCADE" and _leads_to_owners(other)
    ]


def _leads_to_owners(table: Table) -> bool:
    return table in _OWNER_NAMES or bool(_cascades(table))
