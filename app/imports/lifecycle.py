"""The import record's state machine: every change of an import's status is made here.

    (new) --claim--> running --complete--> completed
                     running --fail------> failed --reclaim--> running
                     running --forget----> (deleted: a synchronous import that failed)
                     running --recover---> failed  (its process died; at start-up)
                     running --unstick---> failed  (running past IMPORT_RUNNING_TIMEOUT_SECONDS)
    completed or failed --undo--> (deleted, with its entries: DELETE /imports/{id})
    completed --recheck--> completed  (its runs judged again: POST /imports/{id}/recheck)

Each move is one conditional UPDATE (or DELETE) whose WHERE names the states it may start
from, so two processes racing for one record cannot both win: the loser's statement matches no
row and the move is refused. Every move bumps `version`, so an ETag read before it no longer
matches. `dedupe_key` (the claim on the file's content, unique per template) is held while an
import stands and released when it fails, so the same file can be imported again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import deletions
from app.models import ImportProgress, ImportRecord, ImportSource, ImportStatus
from app.models.base import utcnow

RECORDS: Table = ImportRecord.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Move:
    name: str
    start: frozenset[ImportStatus]
    end: ImportStatus | None  # None: the record is deleted


RUNNING = frozenset({ImportStatus.running})
CLAIM = Move("claim", frozenset(), ImportStatus.running)
RECLAIM = Move("reclaim", frozenset({ImportStatus.failed}), ImportStatus.running)
COMPLETE = Move("complete", RUNNING, ImportStatus.completed)
FAIL = Move("fail", RUNNING, ImportStatus.failed)
FORGET = Move("forget", RUNNING, None)
RECOVER = Move("recover", RUNNING, ImportStatus.failed)
UNSTICK = Move("unstick", RUNNING, ImportStatus.failed)
UNDO = Move("undo", frozenset({ImportStatus.completed, ImportStatus.failed}), None)
COMPLETED = frozenset({ImportStatus.completed})
RECHECK = Move("recheck", COMPLETED, ImportStatus.completed)
MOVES = (CLAIM, RECLAIM, COMPLETE, FAIL, FORGET, RECOVER, UNSTICK, UNDO, RECHECK)


class MoveRefused(Exception):
    """The record was not in a state the move may start from (or is gone)."""

    def __init__(self, move: Move, record_id: int) -> None:
        self.move, self.record_id = move, record_id
        super().__init__(f"import {record_id}: {move.name} refused (not in {sorted(move.start)})")


async def _move(
    session: AsyncSession, move: Move, record_id: int, *conditions: Any, **values: Any
) -> None:
    statement = update(ImportRecord).where(
        ImportRecord.id == record_id, ImportRecord.status.in_(move.start), *conditions
    )
    result = await session.execute(
        statement.values(status=move.end, version=ImportRecord.version + 1, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise MoveRefused(move, record_id)


async def claim(
    session: AsyncSession,
    *,
    worker: str,
    template_id: int,
    source: ImportSource,
    original_filename: str,
    storage_key: str,
    file_format: str,
    sha256: str,
    size_bytes: int,
    on_error: str,
    force: bool,
    created_by: str | None,
    schedule_id: int | None,
    source_path: str | None,
) -> int:
    """A new record, running: its `dedupe_key` is the claim on the file (IntegrityError when
    another import of the same content for the template stands, unless `force`)."""
    record = ImportRecord(
        template_id=template_id,
        source=source,
        original_filename=original_filename,
        storage_key=storage_key,
        file_format=file_format,
        sha256=sha256,
        dedupe_key=None if force else sha256,
        size_bytes=size_bytes,
        status=CLAIM.end,
        on_error=on_error,
        errors=[],
        attempts=1,
        worker=worker,
        started_at=utcnow(),
        created_by=created_by,
        schedule_id=schedule_id,
        source_path=source_path,
    )
    session.add(record)
    await session.flush()
    return record.id


async def reclaim(session: AsyncSession, record_id: int, *, worker: str, sha256: str) -> str:
    """A failed import taken up again (the scheduler's next attempt): running, one attempt
    more, the claim on the file held again. Returns the stored file's key."""
    await _move(
        session,
        RECLAIM,
        record_id,
        ImportRecord.sha256 == sha256,
        dedupe_key=sha256,
        attempts=ImportRecord.attempts + 1,
        worker=worker,
        started_at=utcnow(),
        finished_at=None,
        message=None,
        errors=[],
    )
    key = await session.scalar(select(ImportRecord.storage_key).where(ImportRecord.id == record_id))
    # The last attempt's progress is not this one's (app/imports/progress.py).
    await session.execute(delete(ImportProgress).where(ImportProgress.import_id == record_id))
    return str(key)


async def complete(
    session: AsyncSession,
    record_id: int,
    *,
    rows_total: int,
    rows_failed: int,
    errors: list[dict[str, Any]],
    conformance: dict[str, Any] | None = None,
) -> None:
    """In the transaction that inserted the entries: if the record is no longer running (the
    stuck-import sweep failed it meanwhile), the move is refused and the entries roll back."""
    await _move(
        session,
        COMPLETE,
        record_id,
        rows_total=rows_total,
        rows_imported=rows_total - rows_failed,
        rows_failed=rows_failed,
        errors=errors,
        conformance=conformance,
        finished_at=utcnow(),
    )


async def recheck(
    session: AsyncSession,
    record_id: int,
    *,
    conformance: dict[str, Any],
    errors: list[dict[str, Any]],
) -> None:
    """In the transaction that wrote the runs' new verdicts: the import's summary and its row
    errors (the unresolved parts of its runs, judged again)."""
    await _move(session, RECHECK, record_id, conformance=conformance, errors=errors)


async def fail(
    session: AsyncSession,
    record_id: int,
    *,
    message: str,
    errors: list[dict[str, Any]],
    rows_total: int,
    rows_failed: int,
) -> None:
    """A running import failed: its reason and row errors kept, its claim on the file
    released."""
    await _move(
        session,
        FAIL,
        record_id,
        dedupe_key=None,
        message=message[:1000],
        errors=errors,
        rows_total=rows_total,
        rows_imported=0,
        rows_failed=rows_failed,
        finished_at=utcnow(),
    )


async def forget(session: AsyncSession, record_id: int) -> None:
    """A synchronous import that failed leaves no record."""
    await _delete(session, FORGET, record_id)


async def undo(session: AsyncSession, record_id: int) -> None:
    """An import that has ended is deleted, its entries with it (the foreign key cascades).
    A running one is refused: its transaction is still inserting."""
    await _delete(session, UNDO, record_id)


async def _delete(session: AsyncSession, move: Move, record_id: int) -> None:
    condition = and_(ImportRecord.id == record_id, ImportRecord.status.in_(move.start))
    await deletions.record_where(session, RECORDS, condition)  # with its entries, if any
    result = await session.execute(delete(ImportRecord).where(condition))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise MoveRefused(move, record_id)


async def running_workers(session: AsyncSession) -> list[tuple[int, str | None]]:
    rows = await session.execute(
        select(ImportRecord.id, ImportRecord.worker).where(ImportRecord.status.in_(RUNNING))
    )
    return [(import_id, worker) for import_id, worker in rows.all()]


async def recover(session: AsyncSession, record_ids: list[int]) -> int:
    """Imports whose process died are failed; those another process finished meanwhile stay."""
    return await _move_many(
        session,
        RECOVER,
        ImportRecord.id.in_(record_ids),
        message="Interrupted: the process running the import stopped",
    )


async def unstick(session: AsyncSession, started_before: datetime) -> int:
    return await _move_many(
        session,
        UNSTICK,
        ImportRecord.started_at < started_before,
        message="Stuck: running longer than IMPORT_RUNNING_TIMEOUT_SECONDS",
    )


async def _move_many(session: AsyncSession, move: Move, condition: Any, **values: Any) -> int:
    result = await session.execute(
        update(ImportRecord)
        .where(condition, ImportRecord.status.in_(move.start))
        .values(
            status=move.end,
            version=ImportRecord.version + 1,
            dedupe_key=None,
            finished_at=utcnow(),
            **values,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def file_deleted(session: AsyncSession, record_id: int) -> None:
    """The stored file is gone (FILE_RETENTION_DAYS): the record stays, without it. Not a
    move of the status, so it does not change the ETag either."""
    await session.execute(
        update(ImportRecord).where(ImportRecord.id == record_id).values(file_deleted_at=utcnow())
    )
