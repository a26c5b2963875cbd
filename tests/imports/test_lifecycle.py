"""The import record's moves (app/imports/lifecycle.py): each allowed from its states only."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.imports import lifecycle
from app.models import ImportRecord, ImportSource, ImportStatus
from app.models.base import utcnow

ROOT = Path(__file__).resolve().parents[2]
Apply = Callable[[AsyncSession, int], Awaitable[Any]]

# Each move as the importer, the scheduler and start-up recovery make it.
APPLY: dict[lifecycle.Move, Apply] = {
    lifecycle.RECLAIM: lambda s, i: lifecycle.reclaim(s, i, worker="w", sha256="a" * 64),
    lifecycle.COMPLETE: lambda s, i: lifecycle.complete(
        s, i, rows_total=3, rows_failed=1, errors=[]
    ),
    lifecycle.FAIL: lambda s, i: lifecycle.fail(
        s, i, message="broken", errors=[], rows_total=3, rows_failed=3
    ),
    lifecycle.FORGET: lifecycle.forget,
    lifecycle.UNDO: lifecycle.undo,
    lifecycle.RECOVER: lambda s, i: _counted(lifecycle.recover(s, [i])),
    lifecycle.UNSTICK: lambda s, i: _counted(lifecycle.unstick(s, utcnow() + timedelta(1))),
    lifecycle.RECHECK: lambda s, i: lifecycle.recheck(s, i, conformance={"runs": 0}, errors=[]),
}


async def _counted(moved: Awaitable[int]) -> None:
    """The sweeps move many records and say how many: none moved is a refusal here."""
    if await moved == 0:
        raise lifecycle.MoveRefused(lifecycle.RECOVER, 0)


async def claim(session: AsyncSession, template_id: int, sha256: str, force: bool = False) -> int:
    return await lifecycle.claim(
        session,
        worker="w",
        template_id=template_id,
        source=ImportSource.upload,
        original_filename="f.xlsx",
        storage_key="imports/f.xlsx",
        file_format="xlsx",
        sha256=sha256,
        size_bytes=10,
        on_error="abort",
        force=force,
        created_by=None,
        schedule_id=None,
        source_path=None,
    )


def test_every_move_is_walked() -> None:
    assert set(APPLY) | {lifecycle.CLAIM} == set(lifecycle.MOVES)


@pytest.mark.parametrize(
    ("move", "start"),
    list(
        itertools.product(
            APPLY, [ImportStatus.running, ImportStatus.completed, ImportStatus.failed]
        )
    ),
    ids=lambda v: getattr(v, "name", v),
)
async def test_a_move_starts_only_from_its_states(
    db: Database, template: dict[str, Any], move: lifecycle.Move, start: ImportStatus
) -> None:
    record_id = await db.run(lambda s: claim(s, template["id"], "a" * 64))

    async def put_in(session: AsyncSession) -> None:
        record = await session.get(ImportRecord, record_id)
        assert record is not None
        record.status, record.started_at = start, utcnow() - timedelta(hours=1)

    await db.run(put_in)
    before = await db.run(lambda s: s.get(ImportRecord, record_id), write=False)
    assert before is not None

    if start in move.start:
        await db.run(lambda s: APPLY[move](s, record_id))
        after = await db.run(lambda s: s.get(ImportRecord, record_id), write=False)
        if move.end is None:
            assert after is None
            return
        assert after is not None
        assert after.status == move.end
        assert after.version == before.version + 1
        # A failed import lets go of its file; a running or completed one holds it.
        assert (after.dedupe_key is None) == (move.end == ImportStatus.failed)
    else:
        with pytest.raises(lifecycle.MoveRefused):
            await db.run(lambda s: APPLY[move](s, record_id))
        after = await db.run(lambda s: s.get(ImportRecord, record_id), write=False)
        assert after is not None
        assert (after.status, after.version) == (before.status, before.version)


async def test_claim_holds_the_file_unless_forced(db: Database, template: dict[str, Any]) -> None:
    first = await db.run(lambda s: claim(s, template["id"], "b" * 64))
    with pytest.raises(IntegrityError):
        await db.run(lambda s: claim(s, template["id"], "b" * 64))
    forced = await db.run(lambda s: claim(s, template["id"], "b" * 64, force=True))
    statuses = await db.run(
        lambda s: s.scalars(
            select(ImportRecord.status).where(ImportRecord.id.in_([first, forced]))
        ),
        write=False,
    )
    assert list(statuses) == [ImportStatus.running] * 2

    # Failed, the file is free: another import may claim it; a retry of the failed one may
    # not take it back while that one stands.
    await db.run(
        lambda s: lifecycle.fail(s, first, message="x", errors=[], rows_total=0, rows_failed=0)
    )
    await db.run(lambda s: claim(s, template["id"], "b" * 64))
    with pytest.raises(IntegrityError):
        await db.run(lambda s: lifecycle.reclaim(s, first, worker="w", sha256="b" * 64))


async def test_reclaim_counts_the_attempt_and_wants_the_same_file(
    db: Database, template: dict[str, Any]
) -> None:
    record_id = await db.run(lambda s: claim(s, template["id"], "c" * 64))
    await db.run(
        lambda s: lifecycle.fail(s, record_id, message="x", errors=[], rows_total=0, rows_failed=0)
    )
    with pytest.raises(lifecycle.MoveRefused):
        await db.run(lambda s: lifecycle.reclaim(s, record_id, worker="w", sha256="d" * 64))
    key = await db.run(lambda s: lifecycle.reclaim(s, record_id, worker="w2", sha256="c" * 64))
    record = await db.run(lambda s: s.get(ImportRecord, record_id), write=False)
    assert record is not None and key == "imports/f.xlsx"
    assert (record.attempts, record.worker, record.message) == (2, "w2", None)


def test_only_the_lifecycle_changes_import_records() -> None:
    writers = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        if any(w in path.read_text() for w in ("update(ImportRecord", "delete(ImportRecord"))
    )
    assert writers == ["app/imports/lifecycle.py"]


async def test_forget_leaves_a_record_moved_meanwhile_with_its_file(
    db: Database, template: dict[str, Any], settings: Any, tmp_path: Path
) -> None:
    """A synchronous import that failed forgets its record, then its file; when the stuck-import
    sweep has failed the record meanwhile, the record stays and so does the file it names."""
    from app.imports.service import Importer
    from app.storage import create_storage

    storage = create_storage(settings)
    source = tmp_path / "file"
    source.write_bytes(b"x")
    await storage.save("imports/kept.xlsx", source)
    record_id = await db.run(lambda s: claim(s, template["id"], "e" * 64))
    await db.run(
        lambda s: lifecycle.fail(
            s, record_id, message="stuck", errors=[], rows_total=0, rows_failed=0
        )
    )
    await Importer(db, storage, settings)._forget(record_id, "imports/kept.xlsx")
    assert await storage.exists("imports/kept.xlsx")
    record = await db.run(lambda s: s.get(ImportRecord, record_id), write=False)
    assert record is not None and record.status == ImportStatus.failed
    await storage.delete("imports/kept.xlsx")
