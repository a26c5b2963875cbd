"""Where scheduled imports look for files: a local folder (confined to IMPORT_SOURCE_ROOTS) or
an S3 prefix."""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
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


def local_folder(uri: str, settings: Settings) -> tuple[Path, Path]:
    """The folder of a file:// URI and the root of IMPORT_SOURCE_ROOTS it lies in."""
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
    for root in roots:
        if folder == root or folder.is_relative_to(root):
            return root, folder
    raise SourceError(
        f"{folder} is outside the allowed roots (IMPORT_SOURCE_ROOTS: "
        f"{', '.join(str(r) for r in roots)})"
    )


_NO_LINKS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


class LocalSource:
    """A folder under a root. Listing and fetching walk from the root one folder at a time
    without following a symbolic link (the folder was resolved when the schedule was saved):
    a link swapped in later, for the folder or for a listed file, is refused, not read."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.folder = folder

    def _open_folder(self) -> int:
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in self.folder.relative_to(self.root).parts:
                inner = os.open(part, _NO_LINKS | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = inner
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _open_file(self, name: str) -> int:
        if name in ("", ".", "..") or "/" in name:
            raise SourceError(f"{name!r} is not a file name")
        try:
            folder = self._open_folder()
            try:
                # O_NONBLOCK: a FIFO swapped in would otherwise hang the open until a writer came
                fd = os.open(name, _NO_LINKS | os.O_NONBLOCK, dir_fd=folder)
            finally:
                os.close(folder)
        except OSError as exc:
            raise SourceError(
                f"cannot open {name} in {self.folder} ({exc.strerror}; symbolic links are "
                "not followed)"
            ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise SourceError(f"{name} in {self.folder} is not a regular file")
        return fd

    async def list(self, pattern: str) -> list[SourceFile]:
        def scan() -> list[SourceFile]:
            try:
                folder = self._open_folder()
            except OSError as exc:
                raise SourceError(
                    f"{self.folder} is not a folder ({exc.strerror}; symbolic links are not "
                    "followed)"
                ) from None
            found = []
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.is_file(follow_symlinks=False) and fnmatch.fnmatch(
                            entry.name, pattern
                        ):
                            info = entry.stat(follow_symlinks=False)
                            found.append(
                                SourceFile(
                                    entry.name,
                                    str(self.folder / entry.name),
                                    info.st_size,
                                    datetime.fromtimestamp(info.st_mtime, UTC),
                                )
                            )
            finally:
                os.close(folder)
            return sorted(found, key=lambda f: f.name)

        return await anyio.to_thread.run_sync(scan)

    async def fetch(self, file: SourceFile, dest: Path) -> None:
        def copy() -> None:
            with os.fdopen(self._open_file(file.name), "rb") as source, dest.open("wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)

        await anyio.to_thread.run_sync(copy)


def _segments(path: str) -> list[str]:
    parts = path.strip("/").split("/") if path.strip("/") else []
    if any(part in ("", ".", "..") for part in parts):
        raise SourceError(f"{path!r}: a prefix of plain folder names (no empty, . or ..)")
    return parts


def s3_location(uri: str, settings: Settings) -> tuple[str, str]:
    """The bucket and key prefix of an s3:// URI, if inside one of IMPORT_SOURCE_BUCKETS
    (`bucket` or `bucket/prefix`). Prefixes match whole folder names: `bucket/ab` allows
    `bucket/ab/x`, never `bucket/abc`."""
    parsed = urlparse(uri)
    if not parsed.netloc:
        raise SourceError("s3://bucket/prefix needs a bucket")
    if parsed.query or parsed.fragment or "\x00" in uri:
        raise SourceError("an s3:// source is s3://bucket/prefix, without ?, # or NUL")
    segments = _segments(parsed.path)
    for entry in settings.import_source_buckets:
        bucket, _, prefix = entry.removeprefix("s3://").strip("/").partition("/")
        allowed = _segments(prefix)
        if parsed.netloc == bucket and segments[: len(allowed)] == allowed:
            return bucket, "/".join(segments)
    allowed_list = ", ".join(settings.import_source_buckets) or "none"
    raise SourceError(
        f"s3://{parsed.netloc}/{'/'.join(segments)} is outside the allowed buckets "
        f"(IMPORT_SOURCE_BUCKETS: {allowed_list})"
    )


def check_source(uri: str, settings: Settings) -> None:
    """SourceError unless the URI lies inside IMPORT_SOURCE_ROOTS or IMPORT_SOURCE_BUCKETS."""
    if uri.startswith("s3://"):
        s3_location(uri, settings)
    else:
        local_folder(uri, settings)


class S3Source:
    """The objects under a prefix, taken as a folder: `cell1` lists `cell1/...`, not
    `cell10/...`."""

    def __init__(self, bucket: str, prefix: str, settings: Settings) -> None:
        self.prefix = f"{prefix}/" if prefix else ""
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
        if not file.ref.startswith(self.prefix):
            raise SourceError(f"{file.ref} is not under {self.prefix}")
        await self.s3._call(self.s3.client.download_file, self.s3.bucket, file.ref, str(dest))


def open_source(uri: str, settings: Settings) -> Source:
    """The source of a URI, confined as `check_source` says (a schedule saved before a
    narrower IMPORT_SOURCE_BUCKETS or IMPORT_SOURCE_ROOTS fails its run without reading)."""
    if uri.startswith("s3://"):
        return S3Source(*s3_location(uri, settings), settings)
    return LocalSource(*local_folder(uri, settings))
