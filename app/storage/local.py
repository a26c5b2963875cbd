"""Files in a local folder. Writes go to a temporary name and are renamed into place, so a
reader never sees half a file and a crash leaves no partial file under a real key.

Every OSError leaves as a StorageError, as S3's failures do: left as it is, the API's error
handler would take it for a lost database connection and answer 503."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

import anyio

from app.storage.base import CHUNK, StorageError, StorageFull, StorageMissing

T = TypeVar("T")
# What opening a path answers when nothing is stored there (ENOTDIR: a folder on the way is a
# file, so the key cannot exist either).
_ABSENT = (errno.ENOENT, errno.ENOTDIR)


def _failure(exc: OSError, doing: str) -> StorageError:
    return StorageError(f"cannot {doing}: {exc.strerror or exc}")


async def _in_thread(doing: str, work: Callable[[], T]) -> T:
    try:
        return await anyio.to_thread.run_sync(work)
    except OSError as exc:
        raise _failure(exc, doing) from exc


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise StorageError(f"invalid storage key {key!r}")
        return path

    def _open(self, key: str) -> BinaryIO:
        """Blocking: the stored file, open for reading."""
        try:
            return self._path(key).open("rb")
        except OSError as exc:
            if exc.errno in _ABSENT:
                raise StorageMissing(f"no stored file under {key!r}") from exc
            raise _failure(exc, f"read {key!r}") from exc

    async def save(
        self, key: str, source: Path, filename: str | None = None, content_type: str | None = None
    ) -> None:
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.part")

        def copy() -> None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, tmp)
                os.replace(tmp, path)
            except OSError as exc:
                # The cleanup must not hide the first failure (the folder may not exist).
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise StorageFull("no space left on the upload volume") from exc
                raise _failure(exc, "write the file") from exc

        await anyio.to_thread.run_sync(copy)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        handle = await anyio.to_thread.run_sync(self._open, key)
        return self._chunks(handle, key)

    @staticmethod
    async def _chunks(handle: BinaryIO, key: str) -> AsyncIterator[bytes]:
        try:
            while chunk := await _in_thread(f"read {key!r}", lambda: handle.read(CHUNK)):
                yield chunk
        finally:
            # Closed here, not in a thread: this also runs when the download is cancelled,
            # where awaiting would be cancelled too and leave the file open.
            handle.close()

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        async for chunk in await self.open(key):
            yield chunk

    async def fetch(self, key: str, dest: Path) -> None:
        def copy() -> None:
            with self._open(key) as source, dest.open("wb") as target:
                shutil.copyfileobj(source, target, CHUNK)

        await _in_thread(f"copy {key!r} to {dest}", copy)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await _in_thread(f"delete {key!r}", lambda: path.unlink(missing_ok=True))

    async def exists(self, key: str) -> bool:
        return await _in_thread(f"look for {key!r}", self._path(key).is_file)

    async def url(self, key: str, filename: str) -> str | None:
        return None

    async def ping(self) -> None:
        def check() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):
                raise StorageError(f"{self.root} is not writable")

        await _in_thread(f"use {self.root}", check)
