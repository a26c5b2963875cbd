"""Where a schedule may read: folders inside IMPORT_SOURCE_ROOTS, their files opened without
following a symlink; S3 prefixes inside IMPORT_SOURCE_BUCKETS (SeaweedFS on loopback)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from app.core.config import Settings
from app.core.db import Database
from app.scheduler.sources import SourceError, open_source
from tests import factories as f
from tests.conftest import Headers, make_settings
from tests.core.test_errors import assert_problem
from tests.imports import files
from tests.imports.conftest import counts
from tests.imports.files import MAPPING
from tests.s3_server import S3Server


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


def s3_client(server: S3Server) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
    )


async def test_s3_sources_must_lie_inside_the_allowed_buckets(
    s3_env: S3Server, client_with: Any, admin: Headers
) -> None:
    top = f"t{uuid.uuid4().hex[:8]}"
    bucket = s3_env.bucket
    client = client_with(
        import_source_buckets=f"{bucket}/{top}/ab, drops", s3_endpoint_url=s3_env.endpoint
    )
    url = "/api/v1/import-schedules"
    good = {"template_id": await template_id(client, admin), "cron": "*/5 * * * *"}
    for n, inside in enumerate(
        (f"s3://{bucket}/{top}/ab", f"s3://{bucket}/{top}/ab/cell1/", "s3://drops", "s3://drops/x")
    ):
        await f.post(client, admin, url, {**good, "name": f"in {n}", "source_uri": inside})
    for n, outside in enumerate(
        (
            f"s3://{bucket}/{top}/abc",  # a prefix of the text, not of the folders
            f"s3://{bucket}/{top}",
            f"s3://{bucket}",
            f"s3://{bucket}/{top}/ab/../abc",
            f"s3://{bucket}/{top}/ab?x=1",
            f"s3://other/{top}/ab",
            "s3://drops-2/x",
        )
    ):
        body = {**good, "name": f"out {n}", "source_uri": outside}
        problem = assert_problem(
            await client.post(url, json=body, headers=admin), 422, "VALIDATION_ERROR"
        )
        assert "source_uri" in str(problem["errors"]), outside
    schedule = await f.post(
        client, admin, url, {**good, "name": "edited", "source_uri": f"s3://{bucket}/{top}/ab"}
    )
    item = f"{url}/{schedule['id']}"
    away = {"source_uri": f"s3://{bucket}/{top}/abc"}
    assert_problem(
        await client.put(item, json={**good, "name": "edited", **away}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    assert_problem(await client.patch(item, json=away, headers=admin), 422, "VALIDATION_ERROR")


async def test_an_s3_run_reads_only_inside_the_allowed_buckets(
    s3_env: S3Server, client_with: Any, admin: Headers, db: Database
) -> None:
    top = f"t{uuid.uuid4().hex[:8]}"
    bucket = s3_env.bucket
    s3 = s3_client(s3_env)
    s3.put_object(Bucket=bucket, Key=f"{top}/ab/shift1.xlsx", Body=files.xlsx(files.rows(3)))
    s3.put_object(Bucket=bucket, Key=f"{top}/abc/shift2.xlsx", Body=files.xlsx(files.rows(4)))
    options = {"import_settle_seconds": 0, "s3_endpoint_url": s3_env.endpoint}
    client = client_with(import_source_buckets=f"{bucket}/{top}/ab", **options)
    schedule = await f.post(
        client,
        admin,
        "/api/v1/import-schedules",
        {
            "name": "s3",
            "template_id": await template_id(client, admin),
            "source_uri": f"s3://{bucket}/{top}/ab",  # no slash: still the folder ab only
            "cron": "*/5 * * * *",
        },
    )
    run = f"/api/v1/import-schedules/{schedule['id']}/run"
    report = (await client.post(run, headers=admin)).json()
    assert [(o["name"], o["outcome"]) for o in report["files"]] == [("shift1.xlsx", "imported")]

    # The list narrowed after the schedule was saved: its run fails before reading the bucket.
    s3.put_object(Bucket=bucket, Key=f"{top}/ab/shift3.xlsx", Body=files.xlsx(files.rows(5)))
    narrowed = client_with(import_source_buckets=f"{bucket}/{top}/zz", **options)
    report = (await narrowed.post(run, headers=admin)).json()
    assert report["status"] == "failed" and report["files"] == []
    saved = await narrowed.get(f"/api/v1/import-schedules/{schedule['id']}", headers=admin)
    assert "IMPORT_SOURCE_BUCKETS" in saved.json()["last_message"]
    assert (await counts(db))[0] == 1
