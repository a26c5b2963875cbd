"""Files in an S3 bucket (AWS, MinIO, SeaweedFS...). boto3 is synchronous, so every call runs
in a worker thread; uploads are multipart and streamed from the local file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import boto3
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.storage.base import CHUNK, StorageError, StorageMissing, content_disposition

# What S3 servers answer for a key with no object (HEAD has no body, so only its status).
_ABSENT = frozenset({"404", "NoSuchKey", "NotFound"})


class S3Storage:
    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        presign_seconds: int = 300,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.presign_seconds = presign_seconds
        # A session of its own: boto3's default session caches the first credentials it finds.
        self.client = client or boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path"} if endpoint_url else None,
            ),
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
        except (BotoCoreError, ClientError, Boto3Error) as exc:
            raise StorageError(f"S3: {exc}") from exc

    async def _read(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """`_call` for a call that reads one object: its absence is StorageMissing. (Not in
        `_call` itself: HEAD of a missing bucket answers 404 as well.)"""
        try:
            return await self._call(fn, *args, **kwargs)
        except StorageError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and cause.response["Error"]["Code"] in _ABSENT:
                raise StorageMissing(str(exc)) from cause
            raise

    async def save(
        self, key: str, source: Path, filename: str | None = None, content_type: str | None = None
    ) -> None:
        # The download name and type travel with the object (presigned URLs that override
        # response headers are not supported by every S3 server).
        extra = {"ContentDisposition": content_disposition(filename)} if filename else {}
        if content_type:
            extra["ContentType"] = content_type
        await self._call(
            self.client.upload_file,
            str(source),
            self.bucket,
            self._key(key),
            ExtraArgs=extra or None,
        )

    async def open(self, key: str) -> AsyncIterator[bytes]:
        response = await self._read(self.client.get_object, Bucket=self.bucket, Key=self._key(key))
        return self._chunks(response["Body"])

    async def _chunks(self, body: Any) -> AsyncIterator[bytes]:
        try:
            while chunk := await self._call(body.read, CHUNK):
                yield chunk
        finally:
            body.close()

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        async for chunk in await self.open(key):
            yield chunk

    async def fetch(self, key: str, dest: Path) -> None:
        await self._read(self.client.download_file, self.bucket, self._key(key), str(dest))

    async def delete(self, key: str) -> None:
        await self._call(self.client.delete_object, Bucket=self.bucket, Key=self._key(key))

    async def exists(self, key: str) -> bool:
        try:
            await self._read(self.client.head_object, Bucket=self.bucket, Key=self._key(key))
        except StorageMissing:
            return False
        return True

    async def url(self, key: str, filename: str) -> str | None:
        url: str = await self._call(
            self.client.generate_presigned_url,
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._key(key)},
            ExpiresIn=self.presign_seconds,
        )
        return url

    async def ping(self) -> None:
        await self._call(self.client.head_bucket, Bucket=self.bucket)
