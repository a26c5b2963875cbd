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
import os
import socket
import uuid
from collections import Counter
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from app.conformance import service as conformance
from app.conformance import totals as conformance_totals
from app.conformance.runs import RUN_COLUMNS, is_run_template
from app.core.bulk import BulkInsert
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import (
    AppError,
    Conflict,
    InsufficientStorage,
    NotFound,
    StorageUnavailable,
    problem,
)
from app.core.logger import get_logger
from app.core.metrics import IMPORT_ROWS, IMPORTS
from app.entries import totals
from app.imports import lifecycle
from app.imports import progress as live_progress
from app.imports.parsing import Parsers, run_parser
from app.imports.protocol import Chunk, End, ParserJob, Start, Totals
from app.imports.schemas import DryRunReport, ImportOptions
from app.imports.upload import Upload, download_name, receive_upload
from app.machines.validation import lapsed_days
from app.models import ImportRecord, ImportSource, Template, WorkshopEntry
from app.models.base import utcnow
from app.storage import Storage, StorageError, new_key
from app.storage.base import StorageFull
from app.webhooks.events import EventType, conformance_data, emit

ENTRIES: Table = WorkshopEntry.__table__  # type: ignore[assignment]
# The values of an entry's row, in the table's order (_rows builds them so); a run's columns
# come from the parser in RUN_COLUMNS order.
_ROW = ("template_id", "machine_id", "import_id", "row_number", "recorded_at", "data")
ENTRY_KEYS = (*_ROW, "created_at")
RUN_KEYS = (*_ROW, *RUN_COLUMNS, "created_at")
log = get_logger(__name__)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
FAIL_PATIENCE_S = 300.0  # how long a failed import waits for its database to mark it failed


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
    parser_job: ParserJob
    keep_failed: bool = False
    source: str = "upload"
    wait: bool = False  # the caller waits for the outcome (CLI, scheduler): never background
    background: asyncio.Event = field(default_factory=asyncio.Event)


class Importer:
    """Runs imports for one process and keeps their live progress (here, and in the database
    for the other processes: app/imports/progress.py)."""

    def __init__(self, db: Database, storage: Storage, settings: Settings) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings
        self.progress: dict[int, Progress] = {}
        self.tasks: set[asyncio.Task[ImportRecord]] = set()
        self.rechecks: dict[int, asyncio.Task[ImportRecord]] = {}  # running in the background
        self.parsers = Parsers(settings)

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
                record_id, key = await self._reclaim(upload, retry_of)
            else:
                record_id, key = await self._claim_and_store(
                    template, upload, source, on_error, force, created_by, schedule_id, source_path
                )
            job_spec = await self._parser_job(template, upload.path)
        except BaseException:
            upload.discard()
            raise
        job = Job(
            record_id=record_id,
            template_id=template.id,
            machine_id=template.machine_id,
            on_error=on_error,
            upload=upload,
            storage_key=key,
            parser_job=job_spec,
            keep_failed=keep_failed,
            source=source.value,
            wait=wait,
        )
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

    async def submit(
        self,
        template_id: int,
        file: UploadFile,
        options: ImportOptions,
        created_by: str,
    ) -> DryRunReport | tuple[ImportRecord, bool]:
        """An upload through the API: a dry run's report, or the import's record and whether
        it went to the background."""
        template = await self.db.run(lambda s: template_for_upload(s, template_id), write=False)
        upload = await receive_upload(file, self.settings)
        if options.dry_run:
            return DryRunReport.model_validate(await self.dry_run(template, upload))
        return await self.start(
            template,
            upload,
            source=ImportSource.upload,
            on_error=options.on_error,
            force=options.force,
            created_by=created_by,
        )

    async def dry_run(self, template: Template, upload: Upload) -> dict[str, Any]:
        """Parse and validate, write nothing: what an import would do."""
        try:
            total = failed = 0
            errors: list[dict[str, Any]] = []
            job = await self._parser_job(template, upload.path)
            parse = run_parser(self.settings, job, self.parsers)
            async with aclosing(parse) as messages:
                async for message in messages:
                    if isinstance(message, Chunk):
                        errors.extend(message.errors)
                    elif isinstance(message, End):
                        total, failed = message.rows_total, message.rows_failed
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

    async def _parser_job(self, template: Template, path: Path) -> ParserJob:
        """The parser's job; a run template's carries what its runs are resolved with."""
        job = parser_job(template, path)
        if is_run_template(conformance.run_fields(template)):
            ctx = await self.db.run(lambda s: conformance.context(s, template), write=False)
            job.runs = ctx.encode()
        return job

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
    ) -> tuple[int, str]:
        key = new_key("imports", upload.file_format)
        try:
            record_id = await self.db.run(
                lambda session: lifecycle.claim(
                    session,
                    worker=WORKER_ID,
                    template_id=template.id,
                    source=source,
                    original_filename=upload.filename,
                    storage_key=key,
                    file_format=upload.file_format,
                    sha256=upload.sha256,
                    size_bytes=upload.size,
                    on_error=on_error,
                    force=force,
                    created_by=created_by,
                    schedule_id=schedule_id,
                    source_path=source_path,
                )
            )
        except IntegrityError:
            earlier = await self._imported_as(template.id, upload.sha256)
            raise Conflict(
                f"This file was imported already for template {template.id} "
                f"(import {earlier}); send force=true to import it again",
                extra={"import_id": earlier},
            ) from None
        try:
            await self.storage.save(
                key, upload.path, download_name(upload.filename, upload.file_format)
            )
        except StorageError as exc:
            await self._forget(record_id, None)
            if isinstance(exc, StorageFull):
                raise InsufficientStorage(str(exc)) from exc
            log.error("storage_failed", import_id=record_id, error=str(exc))
            raise StorageUnavailable("The file storage is unavailable; try again later") from exc
        return record_id, key

    async def _reclaim(self, upload: Upload, record_id: int) -> tuple[int, str]:
        """Take a failed import up again; the file is the same (same sha256), so it stays
        stored. Only one process can win the move."""
        try:
            key = await self.db.run(
                lambda s: lifecycle.reclaim(s, record_id, worker=WORKER_ID, sha256=upload.sha256)
            )
        except (lifecycle.MoveRefused, IntegrityError):
            raise Conflict(f"Import {record_id} was taken up by another process") from None
        return record_id, key

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
                await self._fail(job, exc, progress)
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
        summary: dict[str, Any] | None = None
        unresolved = 0
        # Nobody waits on the request of an import in the background or of a scheduled run:
        # those queue for a parser however long it takes; the others wait for so long only.
        patient = job.background.is_set() or job.keep_failed
        parse = run_parser(settings, job.parser_job, self.parsers, patient=patient)
        report = live_progress.Reporter(self.db, job.record_id, settings.import_progress_seconds)
        async with aclosing(parse) as messages, self.db.session() as session, session.begin():
            # The parser's turn and its Start come before the session takes a connection: an
            # import queueing for a parser holds none.
            start = await anext(messages)
            big = isinstance(start, Start) and start.rows > settings.import_sync_max_rows
            if big and not job.wait:
                job.background.set()
            connection = await session.connection()
            qualification = conformance.QualificationCheck(session)
            lapsed = await lapsed_days(session, job.machine_id)
            insert: BulkInsert | None = None
            counted: conformance_totals.Runs = Counter()  # the runs as stored, for ADR 0040
            async for message in messages:
                await report(progress)  # the messages so far, for every worker to read
                if isinstance(message, Chunk):
                    progress.rows_failed = message.failed
                    row_errors.extend(message.errors)
                    progress.rows_total += len(message.entries)
                    unresolved += message.unresolved
                    if job.on_error == "abort" and (progress.rows_failed or unresolved):
                        continue  # keep reading to report every bad row; insert nothing
                    rows = self._rows(job, message.entries)
                    if job.parser_job.runs is not None and rows:
                        rows, groups = await conformance.settle(
                            rows,
                            RUN_KEYS,
                            conformance.groups_sent(message.runs),
                            qualification,
                            lapsed,
                        )
                        part = conformance.summary(groups, message.unresolved)
                        summary = conformance.add(summary, part)
                        machine_id = job.machine_id
                        conformance_totals.tally(
                            {
                                (day, machine_id, welder, wps, weld, verdict, failures): n
                                for (day, welder, wps, weld, verdict, failures), n in groups.items()
                            },
                            counted,
                        )
                    if rows:  # one driver executemany (app/core/bulk.py)
                        if insert is None:
                            keys = RUN_KEYS if job.parser_job.runs is not None else ENTRY_KEYS
                            insert = BulkInsert(ENTRIES, keys, connection.dialect)
                        await insert.execute(connection, rows)
                        progress.rows_imported += len(rows)
                elif isinstance(message, Totals):  # rolled back with the rest if rows fail
                    await totals.add(session, job.template_id, job.machine_id, message.rows)
                elif isinstance(message, End):
                    progress.rows_total = message.rows_total
                    progress.rows_failed = message.rows_failed
            total, failed = progress.rows_total, progress.rows_failed
            errors = row_errors[: settings.import_max_errors]
            if total == 0:
                raise RowProblems("The file has no data rows below the header", 0, 0, [])
            if unresolved and job.on_error == "abort":
                raise RowProblems(
                    f"{failed + unresolved} of {total} rows are invalid or runs that cannot be "
                    "tied to their welder, WPS, weld or pass; nothing was imported",
                    total,
                    failed + unresolved,
                    errors,
                )
            if failed and (job.on_error == "abort" or failed == total):
                raise RowProblems(
                    f"{failed} of {total} rows are invalid; nothing was imported",
                    total,
                    failed,
                    errors,
                )
            if counted:  # in the transaction of the runs: rolled back with them
                await conformance_totals.add(
                    session, await conformance_totals.fold(session, counted)
                )
            try:
                await lifecycle.complete(
                    session,
                    job.record_id,
                    rows_total=total,
                    rows_failed=failed,
                    errors=errors,
                    conformance=summary,
                )
                if summary is not None and summary.get("fail"):
                    await emit(
                        session,
                        EventType.conformance_failed,
                        f"{job.record_id}:import",
                        conformance_data(job.record_id, job.template_id, summary),
                    )
            except lifecycle.MoveRefused:  # the stuck-import sweep failed it meanwhile
                raise Conflict(
                    f"Import {job.record_id} was marked failed while it ran (running past "
                    "IMPORT_RUNNING_TIMEOUT_SECONDS); nothing was imported"
                ) from None
        log.info("import_completed", import_id=job.record_id, rows=total - failed, failed=failed)
        IMPORTS.labels(job.source, "completed").inc()
        IMPORT_ROWS.labels("imported").inc(total - failed)
        IMPORT_ROWS.labels("failed").inc(failed)
        return await self.get(job.record_id)

    @staticmethod
    def _rows(job: Job, entries: Sequence[list[Any]]) -> list[tuple[Any, ...]]:
        """The values of each entry to insert, in the order of ENTRY_KEYS, or of RUN_KEYS for
        a run template's (every row is then a run, which the parser judged)."""
        now = utcnow()
        parse_time = datetime.fromisoformat
        template_id, machine_id, import_id = job.template_id, job.machine_id, job.record_id
        return [
            (
                template_id,
                machine_id,
                import_id,
                row,
                parse_time(recorded) if recorded else None,
                data,
                *(run or ()),  # None but in a run template's rows
                now,
            )
            for row, recorded, data, run in entries
        ]

    async def _fail(self, job: Job, exc: BaseException, progress: Progress) -> None:
        """Mark a background import failed, with its reason; release its claim. An import not
        of a schedule emits `import.failed` in the same transaction (a schedule's emits it
        when its last attempt has failed: app/scheduler/runner.py)."""
        record_id = job.record_id
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
        try:

            async def fail(session: AsyncSession) -> None:
                await lifecycle.fail(
                    session,
                    record_id,
                    message=message,
                    errors=errors,
                    rows_total=progress.rows_total,
                    rows_failed=progress.rows_failed,
                )
                if job.source != ImportSource.schedule:
                    data = {
                        "import_id": record_id,
                        "template_id": job.template_id,
                        "source": job.source,
                        "error": message,
                        "rows_total": progress.rows_total,
                        "rows_failed": progress.rows_failed,
                    }
                    await emit(session, EventType.import_failed, str(record_id), data)

            await self.db.run(fail, patience=FAIL_PATIENCE_S)
        except lifecycle.MoveRefused as refused:  # failed already, by the stuck-import sweep
            log.warning("import_fail_refused", import_id=record_id, error=str(refused))

    async def _forget(self, record_id: int, storage_key: str | None) -> None:
        """Undo a synchronous import that failed: no record, no file. The record goes first: if
        another process has moved it meanwhile (the stuck sweep failed it), it keeps its file."""
        try:
            await self.db.run(lambda s: lifecycle.forget(s, record_id))
        except lifecycle.MoveRefused as refused:
            log.warning("import_forget_refused", import_id=record_id, error=str(refused))
            return
        try:
            if storage_key:
                await self.storage.delete(storage_key)
        except StorageError as exc:
            log.error("orphan_file", storage_key=storage_key, error=str(exc))


async def template_for_upload(session: AsyncSession, template_id: int) -> Template:
    template = await session.get(Template, template_id)
    if template is None:
        raise NotFound(f"Template {template_id} does not exist")
    if not template.active:
        raise Conflict(f"Template {template_id} is not active; activate it to import with it")
    return template


def parser_job(template: Template, path: Path) -> ParserJob:
    return ParserJob(
        path=str(path),
        sheet=template.sheet,
        header_row=template.header_row,
        mapping=template.mapping,
        timestamp_field=template.timestamp_field,
        timezone=template.timezone,
        min_arc_time_s=template.min_arc_time_s,
    )
