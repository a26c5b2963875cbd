"""Where a schedule may read: folders confined to IMPORT_SOURCE_ROOTS, files opened without
following a symlink."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from app.scheduler.sources import SourceError, open_source
from tests import factories as f
from tests.conftest import Headers, make_settings
from tests.core.test_errors import assert_problem
from tests.imports.files import MAPPING


async def template_id(client: httpx.AsyncClient, admin: Headers) -> int:
    machine = await f.machine(client, admin)
    template = await f.template(
        client, admin, machine["id"], sheet="Daten", mapping=MAPPING, timestamp_field="ts"
    )
    return int(template["id"])


@pytest.mark.parametrize(
    "uri", ["file:///srv/in%00box", "file:///srv/in\x00box"], ids=["encoded", "raw"]
)
async def test_a_nul_byte_in_a_folder_is_422(
    client_with: Any, admin: Headers, tmp_path: Path, uri: str
) -> None:
    client = client_with(import_source_roots=str(tmp_path))
    body = {
        "name": "nul",
        "template_id": await template_id(client, admin),
        "source_uri": uri,
        "cron": "*/5 * * * *",
    }
    problem = assert_problem(
        await client.post("/api/v1/import-schedules", json=body, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    assert "source_uri" in str(problem["errors"])


@pytest.fixture
def inbox(tmp_path: Path) -> tuple[Settings, Path]:
    folder = tmp_path / "inbox" / "cell1"
    folder.mkdir(parents=True)
    return make_settings(import_source_roots=str(tmp_path / "inbox")), folder


async def test_a_file_swapped_for_a_symlink_after_the_listing_is_not_read(
    inbox: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, folder = inbox
    secret = tmp_path / "secret.xlsx"
    secret.write_bytes(b"outside the root")
    (folder / "shift1.xlsx").write_bytes(b"inside")
    source = open_source(folder.as_uri(), settings)
    (listed,) = await source.list("*.xlsx")

    (folder / "shift1.xlsx").unlink()
    (folder / "shift1.xlsx").symlink_to(secret)
    copy = tmp_path / "copy"
    with pytest.raises(SourceError, match="symbolic links are not followed"):
        await source.fetch(listed, copy)
    assert not copy.exists()


async def test_a_folder_swapped_for_a_symlink_after_the_listing_is_not_read(
    inbox: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, folder = inbox
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "shift1.xlsx").write_bytes(b"outside the root")
    (folder / "shift1.xlsx").write_bytes(b"inside")
    source = open_source(folder.as_uri(), settings)
    (listed,) = await source.list("*.xlsx")

    folder.rename(folder.with_name("cell1-old"))
    folder.symlink_to(elsewhere, target_is_directory=True)
    copy = tmp_path / "copy"
    with pytest.raises(SourceError):
        await source.fetch(listed, copy)
    assert not copy.exists()
    with pytest.raises(SourceError):
        await source.list("*.xlsx")


async def test_a_fifo_swapped_in_is_refused_without_blocking(
    inbox: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, folder = inbox
    (folder / "shift1.xlsx").write_bytes(b"inside")
    source = open_source(folder.as_uri(), settings)
    (listed,) = await source.list("*.xlsx")
    (folder / "shift1.xlsx").unlink()
    os.mkfifo(folder / "shift1.xlsx")
    with pytest.raises(SourceError, match="not a regular file"):
        await source.fetch(listed, tmp_path / "copy")


async def test_a_listed_file_is_fetched(inbox: tuple[Settings, Path], tmp_path: Path) -> None:
    settings, folder = inbox
    (folder / "shift1.xlsx").write_bytes(b"inside")
    (folder / "linked.xlsx").symlink_to(folder / "shift1.xlsx")
    source = open_source(folder.as_uri(), settings)
    (listed,) = await source.list("*.xlsx")  # the link is not listed
    assert listed.ref == str(folder / "shift1.xlsx")
    await source.fetch(listed, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == b"inside"
