from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

CHUNK = 1024 * 1024


class StorageError(Exception):
    """The storage backend failed (unreachable, refused, full)."""


class StorageFull(StorageError):
    """No space left for the file."""


class StorageMissing(StorageError):
    """No object is stored under the key."""


def new_key(prefix: str, extension: str) -> str:
    """A generated key: never derived from anything the client sent."""
    now = datetime.now(UTC)
    return f"{prefix}/{now:%Y/%m}/{uuid.uuid4().hex}.{extension}"


def content_disposition(filename: str) -> str:
    """`attachment` with the name as plain ASCII and, for any other character, RFC 5987."""
    from urllib.parse import quote

    ascii_name = "".join(c for c in filename if 32 <= ord(c) < 127 and c not in '"\\') or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


class Storage(Protocol):
    name: str

    async def save(
        self, key: str, source: Path, filename: str | None = None, content_type: str | None = None
    ) -> None:
        """Store the local file `source` under `key` (streamed, never whole in memory);
        `filename` is the name a download should get, `content_type` the type it is served
        with (by a time-limited URL; the API serves local files with the type it knows)."""

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The stored bytes, in chunks. The object is found and opened before this returns,
        so a missing one (StorageMissing) or an unreadable one (StorageError) is known before
        a response starts. The object stays open until the chunks are read to the end or
        closed, so iterate them once this returns."""

    def stream(self, key: str) -> AsyncIterator[bytes]:
        """`open`, deferred to the first chunk: failures surface while iterating."""

    async def fetch(self, key: str, dest: Path) -> None:
        """Copy the stored file to the local path `dest` (for parsing); StorageMissing when
        there is none."""

    async def delete(self, key: str) -> None:
        """Remove the file; removing a missing file is not an error."""

    async def exists(self, key: str) -> bool: ...

    async def url(self, key: str, filename: str) -> str | None:
        """A time-limited download URL, or None when files are served through the API."""

    async def ping(self) -> None:
        """Raise StorageError when the backend is not usable."""
