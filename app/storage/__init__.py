"""Where uploaded files live: a local folder (default) or an S3 bucket, behind one protocol."""

from app.storage.base import Storage, StorageError, StorageMissing, new_key
from app.storage.factory import create_storage

__all__ = ["Storage", "StorageError", "StorageMissing", "create_storage", "new_key"]
