"""Both storage backends keep the same promises; S3 against a real server."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from pathlib import Path

import httpx
import pytest

from app.storage import StorageError, StorageMissing, new_key
from app.storage.base import Storage
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage
from tests.s3_server import S3Server


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    server: S3Server = request.getfixturevalue("s3_env")
    return S3Storage(
        server.bucket, prefix=f"t-{uuid.uuid4().hex[:6]}", endpoint_url=server.endpoint
    )


async def test_save_read_fetch_delete(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "upload.bin"
    content = bytes(range(256)) * 10_000  # 2.5 MB: several chunks
    source.write_bytes(content)
    key = new_key("imports", "xlsx")
    assert key.startswith("imports/") and key.endswith(".xlsx")
    await storage.save(key, source)
    assert await storage.exists(key)
    assert b"".join([chunk async for chunk in storage.stream(key)]) == content
    copy = tmp_path / "copy.bin"
    await storage.fetch(key, copy)
    assert copy.read_bytes() == content
    await storage.ping()
    await storage.delete(key)
    assert not await storage.exists(key)
    await storage.delete(key)  # deleting twice is fine


async def test_open_finds_the_object_before_the_first_byte(
    storage: Storage, tmp_path: Path
) -> None:
    missing = new_key("imports", "xlsx")
    with pytest.raises(StorageMissing):
        await storage.open(missing)  # raised by the call itself, before any chunk is asked for
    with pytest.raises(StorageMissing):
        await storage.fetch(missing, tmp_path / "copy")
    with pytest.raises(StorageMissing):
        [chunk async for chunk in storage.stream(missing)]

    source = tmp_path / "f.bin"
    source.write_bytes(b"weld log " * 200_000)  # 1.8 MB: two chunks
    key = new_key("imports", "xlsx")
    await storage.save(key, source)
    chunks = await storage.open(key)
    assert b"".join([chunk async for chunk in chunks]) == source.read_bytes()


async def test_download_urls(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "f.xlsx"
    source.write_bytes(b"PK\x03\x04 demo")
    key = new_key("imports", "xlsx")
    await storage.save(key, source, 'cell "1" čelik.xlsx')
    url = await storage.url(key, 'cell "1" čelik.xlsx')
    if isinstance(storage, LocalStorage):
        assert url is None  # served through the API
    else:
        assert url is not None and "Signature" in url
        response = httpx.get(url)
        assert response.status_code == 200 and response.content == b"PK\x03\x04 demo"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="cell 1 elik.xlsx"')
        assert "filename*=UTF-8''cell%20%221%22%20%C4%8Delik.xlsx" in disposition


async def test_local_keys_cannot_escape_the_folder(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    for key in ("../outside.txt", "/etc/passwd", "a/../../x", ""):
        with pytest.raises(StorageError):
            await storage.exists(key)


async def test_local_os_errors_are_storage_errors(tmp_path: Path) -> None:
    # Failures that happen as root too: a directory where a file is stored, a file where a
    # folder is needed.
    storage = LocalStorage(tmp_path / "files")
    (storage.root / "imports" / "a-folder.xlsx").mkdir(parents=True)
    (storage.root / "a-file").write_bytes(b"x")
    source = tmp_path / "f.bin"
    source.write_bytes(b"x")

    async def failure(call: Awaitable[object]) -> StorageError:
        try:
            await call
        except OSError as exc:
            raise AssertionError(f"an OSError escaped: {exc!r}") from exc
        except StorageError as exc:
            return exc
        raise AssertionError("no error")

    folder = "imports/a-folder.xlsx"
    assert type(await failure(storage.open(folder))) is StorageError
    assert type(await failure(storage.fetch(folder, tmp_path / "copy"))) is StorageError
    assert type(await failure(storage.delete(folder))) is StorageError
    assert type(await failure(storage.save(folder, source))) is StorageError
    assert type(await failure(storage.save("a-file/k.xlsx", source))) is StorageError
    # Nothing can be stored under a "folder" that is a file, so nothing is.
    assert type(await failure(storage.open("a-file/k.xlsx"))) is StorageMissing
    # A destination that cannot be written is not a missing stored file.
    await storage.save("imports/k.xlsx", source)
    lost = tmp_path / "no-such-folder" / "copy"
    assert type(await failure(storage.fetch("imports/k.xlsx", lost))) is StorageError
    assert type(await failure(LocalStorage(tmp_path / "f.bin" / "files").ping())) is StorageError


async def test_s3_with_wrong_credentials_or_no_server_raises_storage_error(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"x")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    forged = S3Storage(s3_server.bucket, endpoint_url=s3_server.endpoint)
    with pytest.raises(StorageError):
        await forged.save("k", source)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    nowhere = S3Storage(s3_server.bucket, endpoint_url="http://127.0.0.1:9")
    with pytest.raises(StorageError):
        await nowhere.ping()
