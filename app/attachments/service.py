"""Attachments: files on the rows of `app.models.OWNERS` (certificates, NDT reports, photos,
drawings, signed documents).

A file is received as an import's is (`app.imports.upload`): a private temp copy, counted and
hashed, 413 past ATTACHMENT_MAX_SIZE before the rest is copied. Its type is decided by its
first bytes only (PDF, JPEG, PNG, TIFF; anything else 415, an empty file 422), never by its
name or declared type. The row is written first and the file stored after it, so a storage
failure leaves no row; the stored key is generated. Deleting an attachment, or its owner
(`app.core.attached`), deletes its file just before the transaction commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from app.attachments.schemas import AttachmentQuery, AttachmentRead
from app.core import crud
from app.core.attached import discard_on_commit
from app.core.errors import (
    InsufficientStorage,
    NotFound,
    PayloadTooLarge,
    StorageUnavailable,
    problem,
)
from app.core.pagination import Page, page_of, paginate
from app.core.repository import check_if_match, label
from app.imports.upload import copy_upload, download_name
from app.models import OWNERS, Attachment
from app.models.base import Resource
from app.storage import Storage, StorageError, new_key
from app.storage.base import StorageFull
from app.storage.download import StoredFile, open_download

Reader = Callable[[Attachment], AttachmentRead]
# What a file's first bytes say it is: (magic, content type, extensions, the first the usual).
TYPES: tuple[tuple[bytes, str, tuple[str, ...]], ...] = (
    (b"%PDF-", "application/pdf", ("pdf",)),
    (b"\xff\xd8\xff", "image/jpeg", ("jpg", "jpeg")),
    (b"\x89PNG\r\n\x1a\n", "image/png", ("png",)),
    (b"II*\x00", "image/tiff", ("tif", "tiff")),
    (b"MM\x00*", "image/tiff", ("tif", "tiff")),
)


def file_type(path: Path) -> tuple[str, tuple[str, ...]]:
    """The content type and extensions of the file by its first bytes; 415 for anything but
    PDF, JPEG, PNG and TIFF, 422 for an empty file."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head:
        raise problem(422, "EMPTY_FILE", "The file is empty")
    for magic, content_type, extensions in TYPES:
        if head.startswith(magic):
            return content_type, extensions
    raise problem(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Not a PDF, JPEG, PNG or TIFF file: an attachment's type is decided by its bytes, "
        "whatever its name",
    )


def owner_label(owner: str) -> str:
    """How messages and the spec name the owner: `Work order`, `WPS`."""
    return label(OWNERS[owner])


async def owner_row(session: AsyncSession, owner: str, owner_id: int) -> Resource:
    """The owner (404 when it does not exist)."""
    return await crud.get(session, OWNERS[owner], owner_id)


async def attach(
    session: AsyncSession,
    storage: Storage,
    owner: str,
    owner_id: int,
    file: UploadFile,
    created_by: str,
    limit: int,
) -> Attachment:
    """Attach `file` (at most `limit` bytes: ATTACHMENT_MAX_SIZE) to the owner."""
    await owner_row(session, owner, owner_id)
    too_big = PayloadTooLarge(f"The file is larger than ATTACHMENT_MAX_SIZE ({limit} bytes)")
    upload = await copy_upload(file, limit, too_big)
    try:
        content_type, extensions = await asyncio.to_thread(file_type, upload.path)
        attachment = Attachment(
            owner=owner,
            owner_id=owner_id,
            filename=download_name(upload.filename, *extensions),
            content_type=content_type,
            size=upload.size,
            sha256=upload.sha256,
            storage_key=new_key("attachments", extensions[0]),
            created_by=created_by,
        )
        session.add(attachment)
        await crud.flush(session, Attachment)
        try:
            await storage.save(
                attachment.storage_key, upload.path, attachment.filename, content_type
            )
        except StorageFull as exc:
            raise InsufficientStorage(str(exc)) from exc
        except StorageError as exc:
            raise StorageUnavailable("The file storage is unavailable; nothing was kept") from exc
    finally:
        upload.discard()
    return attachment


async def list_attachments(
    session: AsyncSession,
    owner: str,
    owner_id: int,
    query: AttachmentQuery,
    read: Reader,
) -> Page[AttachmentRead]:
    await owner_row(session, owner, owner_id)
    stmt = select(Attachment).where(Attachment.owner == owner, Attachment.owner_id == owner_id)
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(Attachment, query.sort_by), tiebreak=Attachment.id
    )
    return page_of([read(row) for row in rows], counted, query)


async def get_attachment(
    session: AsyncSession, owner: str, owner_id: int, attachment_id: int
) -> Attachment:
    """The attachment, only through its own owner: another owner's is 404."""
    await owner_row(session, owner, owner_id)
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or (attachment.owner, attachment.owner_id) != (owner, owner_id):
        raise NotFound(f"{owner_label(owner)} {owner_id} has no attachment {attachment_id}")
    return attachment


async def open_attachment(
    session: AsyncSession, storage: Storage, owner: str, owner_id: int, attachment_id: int
) -> tuple[StoredFile, str]:
    """The stored file to download and its content type."""
    attachment = await get_attachment(session, owner, owner_id, attachment_id)
    stored = await open_download(
        storage, attachment.storage_key, attachment.filename, f"Attachment {attachment_id}"
    )
    return stored, attachment.content_type


async def delete_attachment(
    session: AsyncSession, owner: str, owner_id: int, attachment_id: int, if_match: str | None
) -> None:
    """The row now, the file just before the commit (a storage failure: 503, nothing gone)."""
    attachment = await get_attachment(session, owner, owner_id, attachment_id)
    check_if_match(attachment, if_match)
    await crud.remove(session, attachment)
    discard_on_commit(session, [attachment.storage_key])
