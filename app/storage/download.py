"""A stored file as a download: found before anything is answered, then a redirect to a
time-limited URL (S3) or the bytes streamed through the API (a local folder)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import Response, status
from fastapi.responses import RedirectResponse, StreamingResponse

from app.core.errors import Gone, StorageUnavailable
from app.storage.base import Storage, StorageError, StorageMissing, content_disposition


@dataclass
class StoredFile:
    """Where to get a stored file: a time-limited URL (S3), or its bytes, already opened."""

    url: str | None
    chunks: AsyncIterator[bytes] | None
    headers: dict[str, str]

    def response(self, media_type: str) -> Response:
        if self.url is not None:
            return RedirectResponse(self.url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
        assert self.chunks is not None
        return StreamingResponse(self.chunks, media_type=media_type, headers=self.headers)


async def open_download(storage: Storage, key: str, filename: str, what: str) -> StoredFile:
    """The file under `key`, to be downloaded as `filename`: a file gone from storage is 410
    (`what` names it), never a 200 whose body breaks off; an unusable storage is 503."""
    try:
        url = await storage.url(key, filename)
        chunks = None if url else await storage.open(key)
    except StorageMissing:
        raise Gone(f"{what} is missing from the file storage") from None
    except StorageError as exc:
        raise StorageUnavailable("The file storage is unavailable") from exc
    return StoredFile(url, chunks, {"Content-Disposition": content_disposition(filename)})
