from __future__ import annotations

from app.core.config import Settings
from app.storage.base import Storage
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage


def create_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        assert settings.s3_bucket is not None  # checked by Settings
        return S3Storage(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.aws_region,
            presign_seconds=settings.s3_presign_seconds,
        )
    return LocalStorage(settings.upload_dir)
