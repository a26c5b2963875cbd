"""Receiving a file to import: an upload, a file on this machine (the CLI) or a file fetched
from a schedule's source becomes an `Upload`: a private temp copy, counted and hashed (413 past
MAX_FILE_SIZE), its real format and zip structure checked (415/422) before anything else sees it.

An upload's multipart body is read by `uploaded_file`, inside the route, never by FastAPI:
FastAPI reads a body the route declares before it runs any dependency, so an anonymous or
unauthorised upload was received whole (up to MAX_FILE_SIZE, to disk) before its 401 or 403.
The upload routes declare no body parameter; their spec states the body (`UPLOAD_BODY`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from app.core.config import Settings
from app.core.errors import AppError, PayloadTooLarge, field_error, invalid_fields, problem
from app.imports.sniff import Limits, Rejected, inspect_file

COPY_CHUNK = 1024 * 1024


def multipart_file(description: str) -> dict[str, Any]:
    """The spec of a route that reads its multipart field `file` itself (`uploaded_file`),
    as FastAPI describes an UploadFile field."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "title": "Upload",
                        "properties": {
                            "file": {
                                "type": "string",
                                "contentMediaType": "application/octet-stream",
                                "title": "File",
                                "description": description,
                            }
                        },
                        "required": ["file"],
                    }
                }
            },
        }
    }


# The import upload routes' body in the spec.
UPLOAD_BODY = multipart_file("The machine's export, .xlsx or .xls")


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


@asynccontextmanager
async def uploaded_file(request: Request) -> AsyncIterator[UploadFile]:
    """The multipart field `file` of the request (422 without it), closed on leaving. Call it
    from the route, once its permission has been checked: the body is read here, within the
    UPLOAD marker's size limit, with the form limits FastAPI itself would use."""
    async with request.form() as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise invalid_fields(
                [field_error("file", "a file is required (multipart field `file`)", "missing")]
            )
        yield file


def too_large(settings: Settings) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file is larger than MAX_FILE_SIZE ({settings.max_file_size} bytes)"
    )


def safe_filename(name: str | None) -> str:
    """For display only: the last path part, without control characters, at most 255 chars."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(". ")
    return (cleaned or "upload")[:255]


def download_name(filename: str, file_format: str, *also: str) -> str:
    """The name a stored file is downloaded under: its display name with the extension of what
    its bytes are (`report.bin` that is xls downloads as `report.xls`), so the program that
    opens it is chosen by its content, not by what the uploader called it. `also` are other
    extensions of the same format that are kept (`jpeg` beside `jpg`)."""
    stem, dot, extension = filename.rpartition(".")
    if dot and extension.lower() in (file_format, *also):
        return filename
    return f"{stem if dot and stem else filename}.{file_format}"


def _limits(settings: Settings) -> Limits:
    return Limits(
        max_uncompressed=settings.import_max_uncompressed_bytes,
        max_ratio=settings.import_max_compression_ratio,
        max_entries=settings.import_max_zip_entries,
    )


async def copy_upload(upload: UploadFile, max_size: int, too_big: AppError) -> Upload:
    """Copy the upload to a private temp file, counting and hashing; `too_big` past
    `max_size`, before the rest is copied. What the file is has not been checked yet
    (`file_format` is empty)."""
    folder = Path(tempfile.mkdtemp(prefix="workshop-upload-"))
    received = Upload(folder / "file", safe_filename(upload.filename), 0, "", "")
    digest = hashlib.sha256()
    try:
        with received.path.open("wb") as out:
            while chunk := await upload.read(COPY_CHUNK):
                received.size += len(chunk)
                if received.size > max_size:
                    raise too_big
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        received.discard()
        raise
    received.sha256 = digest.hexdigest()
    return received


async def receive_upload(upload: UploadFile, settings: Settings) -> Upload:
    """Copy the upload to a private temp file, counting and hashing; check what it is."""
    received = await copy_upload(upload, settings.max_file_size, too_large(settings))
    try:
        return await check_file(received, settings, size=received.size, sha256=received.sha256)
    except BaseException:
        received.discard()
        raise


async def local_upload(path: Path, settings: Settings) -> Upload:
    """A file on this machine (the CLI), copied to a private temp file."""
    if (await asyncio.to_thread(path.stat)).st_size > settings.max_file_size:
        raise too_large(settings)
    return await copied(
        lambda dest: asyncio.to_thread(shutil.copyfile, path, dest), path.name, settings
    )


async def copied(
    copy: Callable[[Path], Awaitable[object]], name: str, settings: Settings
) -> Upload:
    """`copy` writes the file into a private temp folder; it then becomes an Upload
    (`adopt_file`). A copy that fails leaves no folder behind."""
    folder = Path(tempfile.mkdtemp(prefix="workshop-upload-"))
    try:
        await copy(folder / "file")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return await adopt_file(folder / "file", name, settings)


async def adopt_file(path: Path, name: str, settings: Settings) -> Upload:
    """A private temp file (alone in its folder) becomes an Upload: size, hash, checks.
    The file belongs to the Upload from here on, also when a check refuses it."""
    upload = Upload(path, safe_filename(name), 0, "", "")
    try:
        size, sha256 = await asyncio.to_thread(hash_file, path)
        if size > settings.max_file_size:
            raise too_large(settings)
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
