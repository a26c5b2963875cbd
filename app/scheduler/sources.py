"""Where scheduled imports look for files: a local folder (confined to IMPORT_SOURCE_ROOTS) or
an S3 prefix."""

from __future__ import annotations

import fnmatch
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

import anyio

from app.core.config import Settings
from app.storage.s3 import S3Storage


@dataclass(frozen=True)
class SourceFile:
    name: str
    ref: str  # path or key, recorded on the import as `source_path`
    size: int
    modified: datetime


class Source(Protocol):
    async def list(self, pattern: str) -> list[SourceFile]: ...

    async def fetch(self, file: SourceFile, dest: Path) -> None: ...


class SourceError(ValueError):
    pass


def local_folder(uri: str, settings: Settings) -> Path:
    """The folder of a file:// URI, if it lies inside one of IMPORT_SOURCE_ROOTS."""
    parsed = urlparse(uri)
    if parsed.netloc not in ("", "localhost"):
        raise SourceError("file:// URIs name a folder on this machine (file:///path)")
    path = unquote(parsed.path)
    if "\x00" in path:  # no file system takes it: resolving would raise ValueError (a 500)
        raise SourceError("a folder name cannot contain a NUL byte")
    try:
        folder = Path(path).resolve()
    except (OSError, ValueError) as exc:
        raise SourceError(f"not a usable folder: {exc}") from None
    roots = [Path(root).resolve() for root in settings.import_source_roots]
    if not any(folder == root or folder.is_relative_to(root) for root in roots):
        raise SourceError(
            f"{folder} is outside the allowed roots (IMPORT_SOURCE_ROOTS: "
            f"{', '.join(str(r) for r in roots)})"
        )
    return folder


class LocalSource:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def list(self, pattern: str) -> list[SourceFile]:
        def scan() -> list[SourceFile]:
            if not self.folder.is_dir():
                raise SourceError(f"{self.folder} is not a folder")
            found = []
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False) and fnmatch.fnmatch(
                        entry.name, pattern
                    ):
                        stat = entry.stat(follow_symlinks=False)
                        found.append(
                            SourceFile(
                                entry.name,
                                entry.path,
                                stat.st_size,
                                datetime.fromtimestamp(stat.st_mtime, UTC),
                            )
                        )
            return sorted(found, key=lambda f: f.name)

        return await anyio.to_thread.run_sync(scan)

    async def fetch(self, file: SourceFile, dest: Path) -> None:
        await anyio.to_thread.run_sync(shutil.copyfile, file.ref, dest)


class S3Source:
    def __init__(self, bucket: str, prefix: str, settings: Settings) -> None:
        self.prefix = prefix
        self.s3 = S3Storage(
            bucket, endpoint_url=settings.s3_endpoint_url, region=settings.aws_region
        )

    async def list(self, pattern: str) -> list[SourceFile]:
        def scan() -> list[SourceFile]:
            found = []
            pages = self.s3.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.s3.bucket, Prefix=self.prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"].rsplit("/", 1)[-1]
                    if name and fnmatch.fnmatch(name, pattern):
                        found.append(
                            SourceFile(name, item["Key"], item["Size"], item["LastModified"])
                        )
            return sorted(found, key=lambda f: f.ref)

        return await self.s3._call(scan)  # type: ignore[no-any-return]

    async def fetch(self, file: SourceFile, dest: Path) -> None:
        await self.s3._call(self.s3.client.download_file, self.s3.bucket, file.ref, str(dest))


def open_source(uri: str, settings: Settings) -> Source:
    if uri.startswith("s3://"):
        parsed = urlparse(uri)
        if not parsed.netloc:
            raise SourceError("s3://bucket/prefix needs a bucket")
        return S3Source(parsed.netloc, parsed.path.lstrip("/"), settings)
    return LocalSource(local_folder(uri, settings))
