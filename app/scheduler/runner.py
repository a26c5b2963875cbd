"""One run of an import schedule, and the housekeeping jobs.

A run lists the source; each file that has settled (untouched for IMPORT_SETTLE_SECONDS) and is
not known yet goes through the same pipeline as an upload (source `schedule`). The claim in the
database makes two schedulers that see the same file import it once. A failing file is retried
with exponential backoff up to the schedule's `max_attempts`, every attempt on the same import
record; the last failure is logged at ERROR and emitted as the webhook event `import.failed`
(ALERT_WEBHOOK_URL is a built-in subscriber to it, app/webhooks). Nothing fails
silently: each run's outcome is on the schedule (`last_status`, `last_message`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select, update

from app.core.config import Settings
from app.core.db import Database
from app.core.errors import AppError, Conflict, NotFound
from app.core.logger import get_logger
from app.deletions.service import PRUNE_BATCH, prune
from app.imports import lifecycle
from app.imports.records import delete_errors_workbooks
from app.imports.service import Importer
from app.imports.upload import Upload, copied, too_large
from app.models import ImportRecord, ImportSchedule, ImportSource, ImportStatus, Template
from app.models.base import utcnow
from app.scheduler.schemas import FileOutcome, RunReport, cron_trigger
from app.scheduler.sources import SourceError, SourceFile, open_source
from app.storage import Storage, StorageError
from app.webhooks.events import EventType, emit

log = get_logger(__name__)


async def notify(db: Database, event: EventType, key: str, data: dict[str, Any]) -> None:
    """Emit a webhook event (ALERT_WEBHOOK_URL is its built-in subscriber); a database that
    fails here is logged, never breaks the run."""
    try:
        await db.run(lambda s: emit(s, event, key, data))
    except Exception as exc:
        log.error("webhook_emit_failed", webhook_event=event.value, key=key, error=str(exc))


async def _known(
    db: Database, template_id: int, schedule_id: int, file: SourceFile
) -> ImportRecord | None:
    """The import of this file, by path and size, if this schedule made one already."""
    stmt = (
        select(ImportRecord)
        .where(
            ImportRecord.template_id == template_id,
            ImportRecord.schedule_id == schedule_id,
            ImportRecord.source_path == file.ref,
            ImportRecord.size_bytes == file.size,
        )
        .order_by(ImportRecord.id.desc())
        .limit(1)
    )
    return await db.run(lambda s: s.scalar(stmt), write=False)


async def _by_content(db: Database, template_id: int, sha256: str) -> ImportRecord | None:
    stmt = (
        select(ImportRecord)
        .where(ImportRecord.template_id == template_id, ImportRecord.sha256 == sha256)
        .order_by(ImportRecord.id.desc())
        .limit(1)
    )
    return await db.run(lambda s: s.scalar(stmt), write=False)


async def import_file(
    db: Database,
    importer: Importer,
    settings: Settings,
    schedule: ImportSchedule,
    template: Template,
    source: Any,
    file: SourceFile,
) -> FileOutcome:
    known = await _known(db, template.id, schedule.id, file)
    if known is not None and known.status in (ImportStatus.completed, ImportStatus.running):
        return FileOutcome(name=file.name, outcome="skipped_known", import_id=known.id)
    upload = await fetch(source, file, settings)
    existing = await _by_content(db, template.id, upload.sha256)
    if existing is not None and existing.status != ImportStatus.failed:
        upload.discard()
        return FileOutcome(name=file.name, outcome="skipped_known", import_id=existing.id)
    # Only this schedule's own failed record is taken up again (with its attempts, its file);
    # an upload's or another schedule's failure stays theirs, and this is a new import.
    mine = existing is not None and _retries(existing, schedule.id)
    retry_of = existing.id if existing is not None and mine else None
    attempts = existing.attempts if existing is not None and mine else 0
    if attempts >= schedule.max_attempts:
        upload.discard()
        return FileOutcome(name=file.name, outcome="skipped_given_up", import_id=retry_of)

    last_error = ""
    while True:
        attempts += 1
        try:
            record, _ = await importer.start(
                template,
                upload,
                source=ImportSource.schedule,
                wait=True,
                keep_failed=True,
                schedule_id=schedule.id,
                source_path=file.ref,
                retry_of=retry_of,
                created_by=f"schedule:{schedule.id}",
            )
            return FileOutcome(name=file.name, outcome="imported", import_id=record.id)
        except Conflict as exc:
            return FileOutcome(name=file.name, outcome="claimed_elsewhere", message=exc.detail)
        except AppError as exc:
            last_error = exc.detail
        retry_of = retry_of or await _latest_failed(db, template.id, upload.sha256, schedule.id)
        if attempts >= schedule.max_attempts or retry_of is None:
            break
        delay = settings.import_retry_base_seconds * 2 ** (attempts - 1)
        log.warning(
            "scheduled_import_retry",
            schedule_id=schedule.id,
            file=file.name,
            attempt=attempts,
            delay_s=delay,
            error=last_error,
        )
        await asyncio.sleep(delay)
        upload = await fetch(source, file, settings)
    log.error(
        "scheduled_import_gave_up",
        schedule_id=schedule.id,
        file=file.name,
        import_id=retry_of,
        attempts=attempts,
        error=last_error,
    )
    await notify(
        db,
        EventType.import_failed,
        f"schedule:{schedule.id}:{retry_of or upload.sha256}:{attempts}",
        {
            "schedule_id": schedule.id,
            "schedule": schedule.name,
            "template_id": template.id,
            "file": file.ref,
            "import_id": retry_of,
            "attempts": attempts,
            "error": last_error,
        },
    )
    return FileOutcome(name=file.name, outcome="failed", import_id=retry_of, message=last_error)


async def fetch(source: Any, file: SourceFile, settings: Settings) -> Upload:
    """The source file as an Upload in a private temp folder (one copy, then hashed)."""
    return await copied(lambda dest: source.fetch(file, dest), file.name, settings)


def _retries(record: ImportRecord, schedule_id: int) -> bool:
    """A failed import of this schedule whose file is still kept."""
    return (
        record.status == ImportStatus.failed
        and record.schedule_id == schedule_id
        and record.file_deleted_at is None
    )


async def _latest_failed(
    db: Database, template_id: int, sha256: str, schedule_id: int
) -> int | None:
    record = await _by_content(db, template_id, sha256)
    return record.id if record is not None and _retries(record, schedule_id) else None


async def run_schedule(
    db: Database, importer: Importer, settings: Settings, schedule_id: int
) -> RunReport:
    started = utcnow()
    schedule = await db.run(lambda s: s.get(ImportSchedule, schedule_id), write=False)
    if schedule is None:
        raise NotFound(f"Import schedule {schedule_id} does not exist")
    template = await db.run(lambda s: s.get(Template, schedule.template_id), write=False)
    assert template is not None  # the foreign key keeps it
    outcomes: list[FileOutcome] = []
    status, message = "ok", None
    try:
        source = open_source(schedule.source_uri, settings)
        files = await source.list(schedule.pattern)
        settled_before = started - timedelta(seconds=settings.import_settle_seconds)
        for file in files:
            if file.modified > settled_before:
                outcomes.append(FileOutcome(name=file.name, outcome="skipped_unsettled"))
                continue
            if file.size > settings.max_file_size:  # known from the listing: never copied
                message = too_large(settings).detail
                outcomes.append(FileOutcome(name=file.name, outcome="failed", message=message))
                continue
            try:
                outcomes.append(
                    await import_file(db, importer, settings, schedule, template, source, file)
                )
            except AppError as exc:  # the file itself could not be read (too big, gone)
                outcomes.append(FileOutcome(name=file.name, outcome="failed", message=exc.detail))
            except SourceError as exc:  # refused at the fetch (a link swapped in for it)
                outcomes.append(FileOutcome(name=file.name, outcome="failed", message=str(exc)))
        failed = sum(o.outcome == "failed" for o in outcomes)
        if failed:
            status = "partial" if failed < len(outcomes) else "failed"
            message = f"{failed} file(s) failed"
    except (SourceError, StorageError, OSError) as exc:
        status, message = "failed", f"source unavailable: {exc}"
        log.error("schedule_source_failed", schedule_id=schedule_id, error=str(exc))
        await notify(
            db,
            EventType.schedule_failed,
            f"{schedule_id}:{started.isoformat()}",
            {
                "schedule_id": schedule_id,
                "schedule": schedule.name,
                "error": str(exc),
            },
        )
    finished = utcnow()
    imported = sum(o.outcome == "imported" for o in outcomes)
    summary = message or f"{imported} imported, {len(outcomes) - imported} skipped"
    await db.run(
        lambda s: s.execute(
            update(ImportSchedule)
            .where(ImportSchedule.id == schedule_id)
            .values(
                last_run_at=finished,
                last_status=status,
                last_message=summary[:1000],
                next_run_at=next_fire(schedule.cron) if schedule.enabled else None,
            )
        )
    )
    log.info(
        "schedule_run",
        schedule_id=schedule_id,
        status=status,
        imported=imported,
        files=len(outcomes),
    )
    return RunReport(
        schedule_id=schedule_id,
        started_at=started,
        finished_at=finished,
        status=status,
        files=outcomes,
    )


def next_fire(cron: str) -> datetime | None:
    fire: datetime | None = cron_trigger(cron).get_next_fire_time(None, datetime.now(UTC))
    return fire


async def expire_files(db: Database, storage: Storage, settings: Settings) -> int:
    """Delete stored files older than FILE_RETENTION_DAYS, and the errors workbooks kept
    beside them; their records stay, marked."""
    cutoff = utcnow() - timedelta(days=settings.file_retention_days)
    stmt = (
        select(ImportRecord.id, ImportRecord.storage_key, ImportRecord.attempts)
        .where(
            ImportRecord.created_at < cutoff,
            ImportRecord.storage_key.is_not(None),
            ImportRecord.file_deleted_at.is_(None),
            ImportRecord.status != ImportStatus.running,
        )
        .limit(1000)
    )
    rows = (await db.run(lambda s: s.execute(stmt), write=False)).all()
    expired = 0
    for import_id, key, attempts in rows:
        try:
            await delete_errors_workbooks(storage, str(key), attempts)
            await storage.delete(str(key))
        except StorageError as exc:
            log.error("file_expiry_failed", import_id=import_id, error=str(exc))
            continue
        await db.run(partial(lifecycle.file_deleted, record_id=import_id))
        expired += 1
    if expired:
        log.info("files_expired", count=expired)
    return expired


async def fail_stuck_imports(db: Database, settings: Settings) -> int:
    """Imports `running` for longer than IMPORT_RUNNING_TIMEOUT_SECONDS are marked failed."""
    cutoff = utcnow() - timedelta(seconds=settings.import_running_timeout_seconds)

    count = await db.run(lambda s: lifecycle.unstick(s, cutoff))
    if count:
        log.error("stuck_imports_failed", count=count)
    return count


async def prune_deletions(db: Database, settings: Settings) -> int:
    """Deletions older than DELETIONS_KEEP_DAYS leave the feed, a batch per transaction."""
    pruned = 0
    while True:
        count = await db.run(lambda s: prune(s, settings.deletions_keep_days))
        pruned += count
        if count < PRUNE_BATCH:
            break
    if pruned:
        log.info("deletions_pruned", count=pruned)
    return pruned
