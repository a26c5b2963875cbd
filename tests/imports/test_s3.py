"""Imports with files in S3 (SeaweedFS on loopback)."""

from __future__ import annotations

from typing import Any

import boto3
import httpx

from app.core.db import Database
from tests.conftest import Headers
from tests.core.test_errors import assert_problem
from tests.imports import files
from tests.imports.conftest import counts
from tests.s3_server import S3Server


def objects(server: S3Server, prefix: str) -> list[str]:
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
    )
    listed = client.list_objects_v2(Bucket=server.bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


async def test_upload_download_and_undo_with_s3(
    s3_env: S3Server, client_with: Any, admin: Headers, template: dict[str, Any], db: Database
) -> None:
    prefix = f"t{template['id']}-{id(client_with)}"
    client = client_with(
        storage_backend="s3",
        s3_bucket=s3_env.bucket,
        s3_endpoint_url=s3_env.endpoint,
        s3_prefix=prefix,
    )
    content = files.xlsx(files.rows(8))
    response = await client.post(
        f"/api/v1/templates/{template['id']}/imports",
        files={"file": ("shift 3.xlsx", content)},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    url = response.headers["location"]
    assert len(objects(s3_env, prefix)) == 1

    download = await client.get(f"{url}/file", headers=admin)
    assert download.status_code == 307
    fetched = httpx.get(download.headers["location"])
    assert fetched.status_code == 200 and fetched.content == content
    assert 'filename="shift 3.xlsx"' in fetched.headers["content-disposition"]

    assert (await client.delete(url, headers=admin)).status_code == 204
    assert objects(s3_env, prefix) == []
    assert await counts(db) == (0, 0)


async def test_s3_unreachable_during_upload_is_503_and_leaves_nothing(
    s3_env: S3Server, client_with: Any, admin: Headers, template: dict[str, Any], db: Database
) -> None:
    client = client_with(
        storage_backend="s3", s3_bucket=s3_env.bucket, s3_endpoint_url="http://127.0.0.1:9"
    )
    response = await client.post(
        f"/api/v1/templates/{template['id']}/imports",
        files={"file": ("a.xlsx", files.xlsx(files.rows(3)))},
        headers=admin,
    )
    assert_problem(response, 503, "STORAGE_UNAVAILABLE")
    assert await counts(db) == (0, 0)
    assert (await client.get("/health")).status_code == 200


async def test_a_presigned_download_has_the_extension_of_the_format(
    s3_env: S3Server, client_with: Any, admin: Headers, template: dict[str, Any]
) -> None:
    client = client_with(
        storage_backend="s3",
        s3_bucket=s3_env.bucket,
        s3_endpoint_url=s3_env.endpoint,
        s3_prefix=f"t{template['id']}-{id(client_with)}",
    )
    response = await client.post(
        f"/api/v1/templates/{template['id']}/imports",
        files={"file": ("report.bin", files.xls(files.rows(2)))},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    download = await client.get(f"{response.headers['location']}/file", headers=admin)
    fetched = httpx.get(download.headers["location"])
    assert 'filename="report.xls"' in fetched.headers["content-disposition"]


async def test_the_errors_workbook_is_kept_in_s3_and_goes_with_the_import(
    s3_env: S3Server, client_with: Any, admin: Headers, template: dict[str, Any]
) -> None:
    prefix = f"w{template['id']}-{id(client_with)}"
    client = client_with(
        storage_backend="s3",
        s3_bucket=s3_env.bucket,
        s3_endpoint_url=s3_env.endpoint,
        s3_prefix=prefix,
    )
    data = files.rows(6)
    data[2][1] = "twelve"
    response = await client.post(
        f"/api/v1/templates/{template['id']}/imports",
        params={"on_error": "skip"},
        files={"file": ("shift.xlsx", files.xlsx(data))},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    url = response.headers["location"]
    first = await client.get(f"{url}/errors.xlsx", headers=admin)
    assert first.status_code == 200
    assert len(objects(s3_env, prefix)) == 2  # the file and its errors workbook beside it
    again = await client.get(f"{url}/errors.xlsx", headers=admin)
    assert again.content == first.content
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert objects(s3_env, prefix) == []
