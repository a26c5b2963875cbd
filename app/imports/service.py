"""Excel imports: receive, check, claim, store, parse, insert — and tell the truth throughout.

1. The upload is copied to a private temp file while counting bytes and hashing (413 past
   MAX_FILE_SIZE); its real format and zip structure are checked (415/422).
2. The import record is inserted: that is the claim. `(template_id, dedupe_key)` is unique and
   `dedupe_key` is the file's sha256, so the same file for the same template can be imported
   once, even by two processes at once (409 names the first import; `force` sets no key).
3. The file goes to storage under a generated key.
4. The parser process maps and types the rows; entries are inserted in chunks as they arrive,
   all in one transaction that also completes the record. `abort` inserts nothing when any row
   is bad; `skip` inserts the good rows and records the bad ones.
5. Small files finish within the request (201). Large ones (bytes or rows over the sync limits)
   continue in the background (202), with live progress on GET /imports/{id}.

A synchronous import that fails leaves nothing behind (no record, no file, no entries). A
background import that fails keeps its record (status failed, with the reason and the row
errors) and its file, and releases its claim so the file can be imported again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from app.core.config import Settings
from app.core.db import Database
from app.core.errors import (
    AppError,
    Conflict,
    InsufficientStorage,
    NotFound,
    PayloadTooLarge,
    StorageUnavailable,
    problem,
)
from app.core.logger import get_logger
from app.core.metrics import IMPORT_ROWS, IMPORTS
from app.entries import totals
from app.imports.parser import parse
from app.imports.sniff import Limits, Rejected, inspect_file
from app.models import ImportRecord, ImportSource, ImportStatus, Template, WorkshopEntry
from app.models.base import utcnow
from app.storage import Storage, StorageError, new_key
from app.storage.base import StorageFull

ENTRIES: Table = WorkshopEntry.__table__  # type: ignore[assignment]
log = get_logger(__name__)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
FAIL_PATIENCE_S = 300.0  # how long a failed import waits for its database to mark it failed
COPY_CHUNK = 1024 * 1024


@dataclass
class Upload:
    """A received file in a private temp folder, with what we know about it."""

    path: Path
    filename: str
    size: int
    sha256: str
    file_format: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.path.parent.rmdir()


def safe_filename(name: str | None) -> str:
    """For display only: the last path part, without control characters, at most 255 chars."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(". ")
    return (cleaned or "upload")[:255]


def _limits(settings: Settings) -> Limits:
    return Limits(
        max_uncompressed=settings.import_max_uncompressed_bytes,
        max_ratio=settings.import_max_compression_ratio,
        max_entries=settings.import_max_zip_entries,
    )


async def receive_upload(upload: UploadFile, settings: Settings) -> Upload:
    """Copy the upload to a private temp file, counting and hashing; check what it is."""
    folder = Path(tempfile.mkdtemp(prefix="workshop-upload-"))
    path = folder / "file"
    digest = hashlib.sha256()
    size = 0
    received = Upload(path, safe_filename(upload.filename), 0, "", "")
    try:
        with path.open("wb") as out:
            while chunk := await upload.read(COPY_CHUNK):
                size += len(chunk)
                if size > settings.max_file_size:
                    raise PayloadTooLarge(
                        f"The file is larger than MAX_FILE_SIZE ({settings.max_file_size} bytes)"
                    )
                digest.update(chunk)
                out.write(chunk)
        return await check_file(received, settings, size=size, sha256=digest.hexdigest())
    except BaseException:
        received.discard()
        raise


async def local_upload(path: Path, settings: Settings) -> Upload:
    """A file on this machine (the CLI), copied to a private temp file."""
    if (await asyncio.to_thread(path.stat)).st_size > settings.max_file_size:
        raise PayloadTooLarge(
            f"The file is larger than MAX_FILE_SIZE ({settings.max_file_size} bytes)"
        )
    folder = Path(tempfile.mkdtemp(prefix="workshop-upload-"))
    try:
        await asyncio.to_thread(shutil.copyfile, path, folder / "file")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return await adopt_file(folder / "file", path.name, settings)


async def adopt_file(path: Path, name: str, settings: Settings) -> Upload:
    """A private temp file (alone in its folder) becomes an Upload: size, hash, checks.
    The file belongs to the Upload from here on, also when a check refuses it."""
    upload = Upload(path, safe_filename(name), 0, "", "")
    try:
        size, sha256 = await asyncio.to_thread(hash_file, path)
        if size > settings.max_file_size:
            raise PayloadTooLarge(
                f"The file is larger than MAX_FILE_SIZE ({settings.max_file_size} bytes)"
            )
        return await check_file(upload, settings, size=size, sha256=sha256)
    except BaseException:
        upload.discard()
        raise


async def check_file(upload: Upload, settings: Settings, *, size: int, sha256: str) -> Upload:
    try:
        file_format = await asyncio.to_thread(
            inspect_file, upload.path, settings.import_allowed_formats, _limits(settings)
        )
    except Rejected as exc:
        raise problem(exc.status, exc.code, exc.message) from None
    upload.size, upload.sha256, upload.file_format = size, sha256, file_format
    return upload


def hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


@dataclass
class RowProblems(Exception):
    """Rows failed (abort mode), or nothing was importable."""

    detail: str
    total: int
    failed: int
    errors: list[dict[str, Any]]


@dataclass
class Progress:
    rows_total: int = 0
    rows_imported: int = 0
    rows_failed: int = 0


@dataclass
class Job:
    record_id: int
    template_id: int
    machine_id: int
    on_error: str
    upload: Upload
    storage_key: str
    parser_job: dict[str, Any]
    keep_failed: bool = False
    source: str = "upload"
    background: asyncio.Event = field(default_factory=asyncio.Event)


class Importer:
    """Runs imports for one process and keeps their live progress."""

    def __init__(self, db: Database, storage: Storage, settings: Settings) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings
        self.progress: dict[int, Progress] = {}
        self.tasks: set[asyncio.Task[ImportRecord]] = set()

    # --- entry points ----------------------------------------------------------------------

    async def start(
        self,
        template: Template,
        upload: Upload,
        *,
        source: ImportSource,
        on_error: str = "abort",
        force: bool = False,
        created_by: str | None = None,
        wait: bool = False,
        keep_failed: bool = False,
        schedule_id: int | None = None,
        source_path: str | None = None,
        retry_of: int | None = None,
    ) -> tuple[ImportRecord, bool]:
        """Import `upload`; returns the record and whether it went to the background.

        The upload's temp file belongs to the importer from here on. `keep_failed` keeps a
        failed record (scheduled imports: every attempt is on it); `retry_of` takes a failed
        record up again (an atomic failed -> running transition) instead of making a new one.
        """
        try:
            if retry_of is not None:
                job = await self._reclaim(template, upload, retry_of, on_error)
            else:
                job = await self._claim_and_store(
                    template, upload, source, on_error, force, created_by, schedule_id, source_path
                )
        except BaseException:
            upload.discard()
            raise
        job.keep_failed, job.source = keep_failed, source.value
        if upload.size > self.settings.import_sync_max_bytes and not wait:
            job.background.set()
        task = asyncio.create_task(self._run(job), name=f"import-{job.record_id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        if not wait:
            went_background = asyncio.create_task(job.background.wait())
            await asyncio.wait({task, went_background}, return_when=asyncio.FIRST_COMPLETED)
            went_background.cancel()
            if not task.done():
                return await self.get(job.record_id), True
        return await task, False

    async def dry_run(self, template: Template, upload: Upload) -> dict[str, Any]:
        """Parse and validate, write nothing: what an import would do."""
        try:
            total = failed = 0
            errors: list[dict[str, Any]] = []
            async for message in parse(self.settings, parser_job(template, upload.path)):
                if message["type"] == "error":
                    raise problem(422, message["code"], message["message"])
                if message["type"] == "chunk":
                    errors.extend(message["errors"])
                if message["type"] == "end":
                    total, failed = message["rows_total"], message["rows_failed"]
            return {
                "rows_total": total,
                "rows_valid": total - failed,
                "rows_failed": failed,
                "errors": errors[: self.settings.import_max_errors],
                "sha256": upload.sha256,
                "file_format": upload.file_format,
            }
        finally:
            upload.discard()

    async def get(self, import_id: int) -> ImportRecord:
        async with self.db.session(write=False) as session:
            record = await session.get(ImportRecord, import_id)
        if record is None:
            raise NotFound(f"Import {import_id} does not exist")
        return record

    async def wait_idle(self) -> None:
        """Wait for every running import to finish (tests, graceful shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def shutdown(self) -> None:
        """Stop running imports (their transactions roll back) and record why."""
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    # --- the steps -------------------------------------------------------------------------

    async def _claim_and_store(
        self,
        template: Template,
        upload: Upload,
        source: ImportSource,
        on_error: str,
        force: bool,
        created_by: str | None,
        schedule_id: int | None = None,
        source_path: str | None = None,
    ) -> Job:
        key = new_key("imports", upload.file_format)
        record = ImportRecord(
            template_id=template.id,
            source=source,
            original_filename=upload.filename,
            storage_key=key,
            file_format=upload.file_format,
            sha256=upload.sha256,
            dedupe_key=None if force else upload.sha256,
            size_bytes=upload.size,
            status=ImportStatus.running,
            on_error=on_error,
            errors=[],
            attempts=1,
            worker=WORKER_ID,
            started_at=utcnow(),
            created_by=created_by,
            schedule_id=schedule_id,
            source_path=source_path,
        )

        async def claim(session: AsyncSession) -> int:
            session.add(record)
            await session.flush()
            return record.id

        try:
            record_id = await self.db.run(claim)
        except IntegrityError:
            earlier = await self._imported_as(template.id, upload.sha256)
            raise Conflict(
                f"This file was imported already for template {template.id} "
                f"(import {earlier}); send force=true to import it again",
                extra={"import_id": earlier},
            ) from None
        try:
            await self.storage.save(key, upload.path, upload.filename)
        except StorageError as exc:
            await self._forget(record_id, None)
            if isinstance(exc, StorageFull):
                raise InsufficientStorage(str(exc)) from exc
            log.error("storage_failed", import_id=record_id, error=str(exc))
            raise StorageUnavailable("The file storage is unavailable; try again later") from exc
        return Job(
            record_id=record_id,
            template_id=template.id,
            machine_id=template.machine_id,
            on_error=on_error,
            upload=upload,
            storage_key=key,
            parser_job=parser_job(template, upload.path),
        )

    async def _reclaim(
        self, template: Template, upload: Upload, record_id: int, on_error: str
    ) -> Job:
        """Take a failed import up again: failed -> running in one conditional UPDATE, which
        only one process can win; the file is the same (same sha256), so it stays stored."""

        async def claim(session: AsyncSession) -> str | None:
            result = await session.execute(
                update(ImportRecord)
                .where(
                    ImportRecord.id == record_id,
                    ImportRecord.status == ImportStatus.failed,
                    ImportRecord.sha256 == upload.sha256,
                )
                .values(
                    status=ImportStatus.running,
                    dedupe_key=upload.sha256,
                    attempts=ImportRecord.attempts + 1,
                    worker=WORKER_ID,
                    started_at=utcnow(),
                    finished_at=None,
                    message=None,
                    errors=[],
                    version=ImportRecord.version + 1,
                )
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                return None
            key: str | None = await session.scalar(
                select(ImportRecord.storage_key).where(ImportRecord.id == record_id)
            )
            return key

        try:
            key = await self.db.run(claim)
        except IntegrityError:
            key = None
        if key is None:
            raise Conflict(f"Import {record_id} was taken up by another process")
        return Job(
            record_id=record_id,
            template_id=template.id,
            machine_id=template.machine_id,
            on_error=on_error,
            upload=upload,
            storage_key=key,
            parser_job=parser_job(template, upload.path),
        )

    async def _imported_as(self, template_id: int, sha256: str) -> int | None:
        stmt = select(ImportRecord.id).where(
            ImportRecord.template_id == template_id, ImportRecord.dedupe_key == sha256
        )
        return await self.db.run(lambda s: s.scalar(stmt), write=False)

    async def _run(self, job: Job) -> ImportRecord:
        progress = self.progress.setdefault(job.record_id, Progress())
        try:
            return await self._insert(job, progress)
        except BaseException as exc:
            IMPORTS.labels(job.source, "failed").inc()
            if job.background.is_set() or job.keep_failed:
                await self._fail(job.record_id, exc, progress)
            else:
                await self._forget(job.record_id, job.storage_key)
            if job.background.is_set():
                # Nobody waits for a background import: its record carries the outcome.
                if isinstance(exc, asyncio.CancelledError):
                    raise
                return await self.get(job.record_id)
            if isinstance(exc, RowProblems):
                raise problem(
                    422,
                    "IMPORT_ROWS_INVALID",
                    exc.detail,
                    extra={
                        "rows_total": exc.total,
                        "rows_failed": exc.failed,
                        "row_errors": exc.errors,
                    },
                ) from None
            raise
        finally:
            self.progress.pop(job.record_id, None)
            job.upload.discard()

    async def _insert(self, job: Job, progress: Progress) -> ImportRecord:
        settings = self.settings
        row_errors: list[dict[str, Any]] = []
        day_totals: list[list[Any]] = []
        async with self.db.session() as session, session.begin():
            connection = await session.connection()
            async for message in parse(settings, job.parser_job):
                kind = message["type"]
                if kind == "error":
                    raise problem(422, message["code"], message["message"])
                if kind == "start" and message["rows"] > settings.import_sync_max_rows:
                    job.background.set()
                elif kind == "chunk":
                    progress.rows_failed = message["failed"]
                    row_errors.extend(message["errors"])
                    entries = message["entries"]
                    progress.rows_total += len(entries)
                    if job.on_error == "abort" and progress.rows_failed:
                        continue  # keep reading to report every bad row; insert nothing
                    if entries:  # Core executemany: the ORM's bulk path costs a third more
                        await connection.execute(ENTRIES.insert(), self._rows(job, entries))
                        progress.rows_imported += len(entries)
                elif kind == "end":
                    progress.rows_total = message["rows_total"]
                    progress.rows_failed = message["rows_failed"]
                    day_totals = message["totals"]
            total, failed = progress.rows_total, progress.rows_failed
            errors = row_errors[: settings.import_max_errors]
            if total == 0:
                raise RowProblems("The file has no data rows below the header", 0, 0, [])
            if failed and (job.on_error == "abort" or failed == total):
                raise RowProblems(
                    f"{failed} of {total} rows are invalid; nothing was imported",
                    total,
                    failed,
                    errors,
                )
            await totals.add(session, job.template_id, job.machine_id, day_totals)
            await session.execute(
                update(ImportRecord)
                .where(ImportRecord.id == job.record_id)
                .values(
                    status=ImportStatus.completed,
                    rows_total=total,
                    rows_imported=total - failed,
                    rows_failed=failed,
                    errors=errors,
                    finished_at=utcnow(),
                    version=ImportRecord.version + 1,
                )
            )
        log.info("import_completed", import_id=job.record_id, rows=total - failed, failed=failed)
        IMPORTS.labels(job.source, "completed").inc()
        IMPORT_ROWS.labels("imported").inc(total - failed)
        IMPORT_ROWS.labels("failed").inc(failed)
        return await self.get(job.record_id)

    @staticmethod
    def _rows(job: Job, entries: Sequence[list[Any]]) -> list[dict[str, Any]]:
        now = utcnow()
        parse_time = datetime.fromisoformat
        return [
            {
                "template_id": job.template_id,
                "machine_id": job.machine_id,
                "import_id": job.record_id,
                "row_number": row,
                "recorded_at": parse_time(recorded) if recorded else None,
                "data": data,
                "created_at": now,
            }
            for row, recorded, data in entries
        ]

    async def _fail(self, record_id: int, exc: BaseException, progress: Progress) -> None:
        """Mark a background import failed, with its reason; release its claim."""
        if isinstance(exc, RowProblems):
            message, errors = exc.detail, exc.errors
        elif isinstance(exc, AppError):
            message, errors = exc.detail, []
        elif isinstance(exc, asyncio.CancelledError):
            message, errors = "Interrupted: the service stopped during the import", []
        else:
            message, errors = "Failed on an unexpected error (see the server log)", []
        log.error("import_failed", import_id=record_id, reason=message, exc_info=exc)
        # The database may be why the import failed: keep trying until it is back, so the
        # record does not stay `running` until the next start (ADR 0012).
        await self.db.run(
            lambda s: s.execute(
                update(ImportRecord)
                .where(ImportRecord.id == record_id)
                .values(
                    status=ImportStatus.failed,
                    dedupe_key=None,
                    message=message[:1000],
                    errors=errors,
                    rows_total=progress.rows_total,
                    rows_imported=0,
                    rows_failed=progress.rows_failed,
                    finished_at=utcnow(),
                    version=ImportRecord.version + 1,
                )
            ),
            patience=FAIL_PATIENCE_S,
        )

    async def _forget(self, record_id: int, storage_key: str | None) -> None:
        """Undo a synchronous import that failed: no record, no file."""
        try:
            if storage_key:
                await self.storage.delete(storage_key)
        except StorageError as exc:
            log.error("orphan_file", storage_key=storage_key, error=str(exc))
        await self.db.run(
            lambda s: s.execute(delete(ImportRecord).where(ImportRecord.id == record_id))
        )


def parser_job(template: Template, path: Path) -> dict[str, Any]:
    return {
        "path": str(path),
        "sheet": template.sheet,
        "header_row": template.header_row,
        "mapping": template.mapping,
        "timestamp_field": template.timestamp_field,
        "timezone": template.timezone,
    }


async def recover_interrupted(db: Database) -> int:
    """Mark imports left `running` by a dead process on this host as failed (at start-up)."""
    host = socket.gethostname()
    me = os.getpid()

    async def work(session: AsyncSession) -> int:
        rows = (
            await session.execute(
                select(ImportRecord.id, ImportRecord.worker).where(
                    ImportRecord.status == ImportStatus.running
                )
            )
        ).all()
        dead = [
            import_id
            for import_id, worker in rows
            if worker and worker != WORKER_ID and _process_gone(worker, host, me)
        ]
        if dead:
            await session.execute(
                update(ImportRecord)
                .where(ImportRecord.id.in_(dead), ImportRecord.status == ImportStatus.running)
                .values(
                    status=ImportStatus.failed,
                    dedupe_key=None,
                    message="Interrupted: the process running the import stopped",
                    finished_at=utcnow(),
                    version=ImportRecord.version + 1,
                )
            )
        return len(dead)

    count = await db.run(work)
    if count:
        log.warning("imports_recovered", count=count)
    return count


def _process_gone(worker: str, host: str, me: int) -> bool:
    worker_host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if worker_host != host or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == me:
        return True  # an earlier process that had our pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
