"""Files in a local folder. Writes go to a temporary name and are renamed into place, so a
reader never sees half a file and a crash leaves no partial file under a real key."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from app.storage.base import CHUNK, StorageError, StorageFull


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise StorageError(f"invalid storage key {key!r}")
        return path

    async def save(self, key: str, source: Path, filename: str | None = None) -> None:
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.part")

        def copy() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(source, tmp)
                os.replace(tmp, path)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise StorageFull("no space left on the upload volume") from exc
                raise StorageError(f"cannot write the file: {exc.strerror}") from exc

        await anyio.to_thread.run_sync(copy)

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as handle:
            while chunk := await handle.read(CHUNK):
                yield chunk

    async def fetch(self, key: str, dest: Path) -> None:
        await anyio.to_thread.run_sync(shutil.copyfile, self._path(key), dest)

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))

    async def exists(self, key: str) -> bool:
        return await anyio.to_thread.run_sync(self._path(key).is_file)

    async def url(self, key: str, filename: str) -> str | None:
        return None

    async def ping(self) -> None:
        def check() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):
                raise StorageError(f"{self.root} is not writable")

        await anyio.to_thread.run_sync(check)
