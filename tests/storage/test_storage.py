"""Both storage backends keep the same promises; S3 against a real server."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from app.storage import StorageError, new_key
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
