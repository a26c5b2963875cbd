"""Import records: list, read, download the file or its failed rows, undo an import."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.conformance import service as conformance
from app.conformance.runs import is_run_template
from app.core import audit
from app.core.config import Settings
from app.core.errors import Conflict, Gone, NotFound, StorageUnavailable
from app.core.export import XlsxWriter
from app.core.logger import get_logger
from app.core.pagination import Page, between, eq, page_of, paginate, where
from app.core.repository import Repository
from app.entries import totals
from app.imports import lifecycle, progress
from app.imports.parsing import run_parser
from app.imports.protocol import ParserJob, Rows
from app.imports.schemas import ImportQuery, ImportRead, import_read
from app.imports.service import Importer
from app.imports.upload import download_name
from app.models import ImportRecord, ImportStatus, Template
from app.storage import Storage, StorageError, StorageMissing
from app.storage.download import StoredFile, open_download
from app.webhooks.events import EventType, conformance_data, emit

log = get_logger(__name__)
# What the audit event of an undo keeps of the import.
UNDONE = ("template_id", "source", "original_filename", "sha256", "status", "rows_imported")


def repo(session: AsyncSession) -> Repository[ImportRecord]:
    return Repository(session, ImportRecord)


async def list_imports(
    session: AsyncSession, query: ImportQuery, importer: Importer
) -> Page[ImportRead]:
    stmt = select(ImportRecord).where(
        *where(
            eq(ImportRecord.template_id, query.template_id),
            eq(ImportRecord.status, query.status),
            eq(ImportRecord.source, query.source),
            between(ImportRecord.created_at, query.created_from, query.created_to),
        )
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(ImportRecord, query.sort_by), tiebreak=ImportRecord.id
    )
    live = await progress.live(session, rows, importer.progress)
    items = [import_read(r, live.get(r.id)) for r in rows]
    return page_of(items, counted, query)


async def get_import(session: AsyncSession, import_id: int, importer: Importer) -> ImportRead:
    record = await repo(session).get(import_id)
    live = await progress.live(session, [record], importer.progress)
    return import_read(record, live.get(import_id))


def stored_key(record: ImportRecord) -> str:
    if record.storage_key is None or record.file_deleted_at is not None:
        raise Gone(
            f"The file of import {record.id} is no longer kept (FILE_RETENTION_DAYS)",
        )
    return record.storage_key


async def delete_import(
    session: AsyncSession, storage: Storage, import_id: int, if_match: str | None
) -> None:
    """Undo an import: its entries, then its file, then the record, nothing orphaned.

    Entries and record go in one transaction; the file is deleted just before it commits, so
    a storage failure leaves everything as it was (503).
    """
    record = await repo(session).get_for_write(import_id, if_match)
    await totals.forget_import(session, import_id)
    key = record.storage_key if record.file_deleted_at is None else None
    attempts = record.attempts
    undone = {name: (getattr(record, name), None) for name in UNDONE}
    try:
        await lifecycle.undo(session, import_id)
    except lifecycle.MoveRefused:
        raise Conflict(
            f"Import {import_id} is still running; delete it when it has finished"
        ) from None
    audit.record(session, "delete", "imports", import_id, undone)  # a Core DELETE: said here
    if key:
        try:
            # The kept errors workbooks first: without them the import is as it was.
            await delete_errors_workbooks(storage, key, attempts)
            await storage.delete(key)
        except StorageError as exc:
            raise StorageUnavailable(
                "The file storage is unavailable; nothing was deleted"
            ) from exc


def errors_key(storage_key: str, attempt: int) -> str:
    """Where the errors workbook of an import's attempt is kept: beside the import's file.
    Each attempt has its own, since a retried import has errors of its own."""
    return f"{storage_key.rsplit('.', 1)[0]}.errors-{attempt}.xlsx"


async def delete_errors_workbooks(storage: Storage, storage_key: str, attempts: int) -> None:
    """The kept errors workbooks of an import's attempts (StorageError when one cannot go)."""
    for attempt in range(1, attempts + 1):
        await storage.delete(errors_key(storage_key, attempt))


async def errors_workbook(
    session: AsyncSession, storage: Storage, importer: Importer, import_id: int
) -> AsyncIterator[bytes]:
    """The errors workbook of an import, opened: each failed row as uploaded, plus its errors.

    It is built once, by one parser run, and kept in the file storage beside the import's file
    (deleted with it on undo and on expiry): later calls read it back and start no parser, and
    parallel first calls wait for the one that builds it.
    """
    record = await repo(session).get(import_id)
    if not record.errors:
        raise NotFound(f"Import {import_id} has no row errors")
    key = stored_key(record)
    kept = errors_key(key, record.attempts)
    chunks = await _open_kept(storage, kept)
    if chunks is not None:
        return chunks
    template = await session.get(Template, record.template_id)
    if template is None:  # pragma: no cover - the foreign key prevents it
        raise NotFound(f"Template {record.template_id} does not exist")
    async with importer.parsers.exclusive(kept):
        chunks = await _open_kept(storage, kept)  # built by the call this one waited for
        if chunks is None:
            await _build(storage, importer, record, template, key, kept)
            chunks = await _open_kept(storage, kept)
    if chunks is None:
        raise StorageUnavailable("The errors workbook could not be kept in the file storage")
    return chunks


async def _open_kept(storage: Storage, kept: str) -> AsyncIterator[bytes] | None:
    try:
        return await storage.open(kept)
    except StorageMissing:
        return None
    except StorageError as exc:
        raise StorageUnavailable("The file storage is unavailable") from exc


async def _build(
    storage: Storage,
    importer: Importer,
    record: ImportRecord,
    template: Template,
    key: str,
    kept: str,
) -> None:
    messages: dict[int, list[str]] = {}
    for error in record.errors:
        messages.setdefault(error["row"], []).append(f"{error['column']}: {error['message']}")
    with tempfile.TemporaryDirectory(prefix="workshop-errors-") as folder:
        local = Path(folder) / f"file.{record.file_format}"
        try:
            await storage.fetch(key, local)
        except StorageMissing:
            raise Gone(f"The file of import {record.id} is missing from the file storage") from None
        except StorageError as exc:
            raise StorageUnavailable("The file storage is unavailable") from exc
        job = ParserJob(
            mode="rows",
            path=str(local),
            sheet=template.sheet,
            header_row=template.header_row,
            rows=sorted(messages),
        )
        workbook = Path(folder) / "errors.xlsx"
        writer: XlsxWriter | None = None
        # Written part by part as the parser sends them: the API holds one message at a time.
        parse = run_parser(importer.settings, job, importer.parsers)
        async with aclosing(parse) as parts:
            async for part in parts:
                if not isinstance(part, Rows):
                    continue
                if writer is None:
                    header = ["Row", *[str(h) for h in part.headers], "Error"]
                    writer = await anyio.to_thread.run_sync(XlsxWriter, str(workbook), header)
                rows = [[n, *cells, "; ".join(messages.get(n, []))] for n, cells in part.rows]
                await anyio.to_thread.run_sync(writer.write, rows)
        if writer is None:
            writer = await anyio.to_thread.run_sync(XlsxWriter, str(workbook), ["Row", "Error"])
        await anyio.to_thread.run_sync(writer.close)
        try:
            await storage.save(kept, workbook, f"import-{record.id}-errors.xlsx")
        except StorageError as exc:
            raise StorageUnavailable("The file storage is unavailable") from exc


async def recheck_import(
    session: AsyncSession, importer: Importer, import_id: int
) -> tuple[ImportRead, bool]:
    """Re-check an import's runs now, or (more rows than IMPORT_SYNC_MAX_ROWS) in the
    background; returns the record and whether the work went to the background."""
    record, _ = await _checkable(session, import_id)
    if record.rows_imported <= importer.settings.import_sync_max_rows:
        checked = await recheck(session, importer.storage, import_id, importer.settings)
        return import_read(checked, None), False

    if import_id in importer.rechecks:  # one at a time: a second asks for the same work
        return import_read(record, None), True

    async def later(s: AsyncSession) -> ImportRecord:
        return await recheck(s, importer.storage, import_id, importer.settings)

    task = asyncio.create_task(importer.db.run(later), name=f"recheck-{import_id}")
    importer.tasks.add(task)
    importer.rechecks[import_id] = task

    def ended(task: asyncio.Task[ImportRecord]) -> None:
        importer.tasks.discard(task)
        importer.rechecks.pop(import_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("recheck_failed", import_id=import_id, exc_info=task.exception())

    task.add_done_callback(ended)
    return import_read(record, None), True


async def _checkable(session: AsyncSession, import_id: int) -> tuple[ImportRecord, Template]:
    record = await repo(session).get(import_id)
    template = await session.get(Template, record.template_id)
    if template is None:  # pragma: no cover - the foreign key prevents it
        raise NotFound(f"Template {record.template_id} does not exist")
    if record.conformance is None or not is_run_template(conformance.run_fields(template)):
        raise Conflict(f"Import {import_id} holds no weld runs to check")
    if record.status != ImportStatus.completed:
        raise Conflict(f"Import {import_id} is not completed; re-check it when it is")
    return record, template


async def recheck(
    session: AsyncSession, storage: Storage, import_id: int, settings: Settings
) -> ImportRecord:
    """Judge a completed import's runs again (WPS revised, job map or badges put right): the
    verdicts, the summary and the unresolved parts among its row errors are replaced, in one
    transaction. The kept errors workbook goes: the next call builds it from the new errors."""
    record, template = await _checkable(session, import_id)
    max_errors = settings.import_max_errors
    summary, unresolved = await conformance.recheck(session, import_id, template, max_errors)
    kept = [e for e in record.errors if e.get("kind") != "unresolved"]
    try:
        await lifecycle.recheck(
            session, import_id, conformance=summary, errors=(kept + unresolved)[:max_errors]
        )
    except lifecycle.MoveRefused:
        raise Conflict(f"Import {import_id} is not completed; re-check it when it is") from None
    if summary.get("fail"):
        data = conformance_data(import_id, template.id, summary)
        key = f"{import_id}:{summary['checked_at']}"
        await emit(session, EventType.conformance_failed, key, data)
    if record.storage_key and record.file_deleted_at is None:
        try:
            await storage.delete(errors_key(record.storage_key, record.attempts))
        except StorageError as exc:
            raise StorageUnavailable("The file storage is unavailable; nothing changed") from exc
    await session.refresh(record)
    return record


async def open_file(session: AsyncSession, storage: Storage, import_id: int) -> StoredFile:
    """The stored file of an import, found before anything is answered."""
    record = await repo(session).get(import_id)
    name = download_name(record.original_filename, record.file_format)
    return await open_download(storage, stored_key(record), name, f"The file of import {import_id}")
