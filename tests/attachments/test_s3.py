"""Attachments with files in S3 (SeaweedFS on loopback): presigned downloads, and files that
go with their owner, or stay with it when the storage cannot delete them."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from app.core.db import Database
from tests import factories as f
from tests.attachments.conftest import JPEG, PDF, attach, attachment_rows
from tests.conftest import Headers
from tests.core.test_errors import assert_problem
from tests.imports.test_s3 import objects
from tests.s3_server import S3Server

Clients = Callable[..., httpx.AsyncClient]
UNREACHABLE = "http://127.0.0.1:9"


def on_s3(
    client_with: Clients, server: S3Server, prefix: str, endpoint: str = ""
) -> httpx.AsyncClient:
    return client_with(
        storage_backend="s3",
        s3_bucket=server.bucket,
        s3_endpoint_url=endpoint or server.endpoint,
        s3_prefix=prefix,
    )


async def test_downloads_through_a_presigned_url_and_go_with_the_owner(
    s3_env: S3Server, client_with: Clients, admin: Headers, db: Database
) -> None:
    prefix = f"att-{uuid.uuid4().hex[:8]}"
    client = on_s3(client_with, s3_env, prefix)
    order = f"/api/v1/workorders/{(await f.work_order(client, admin))['id']}"
    response = await attach(client, admin, order, PDF, "Zeichnung Bühne.pdf")
    assert response.status_code == 201, response.text
    await attach(client, admin, order, JPEG, "fit-up.jpg")
    assert len(objects(s3_env, prefix)) == 2

    download = await client.get(response.headers["location"], headers=admin)
    assert download.status_code == 307
    fetched = httpx.get(download.headers["location"])
    assert fetched.status_code == 200 and fetched.content == PDF
    assert fetched.headers["content-type"] == "application/pdf"
    assert fetched.headers["content-disposition"] == (
        "attachment; filename=\"Zeichnung Bhne.pdf\"; filename*=UTF-8''Zeichnung%20B%C3%BChne.pdf"
    )

    assert (await client.delete(order, headers=admin)).status_code == 204
    assert objects(s3_env, prefix) == []
    assert await attachment_rows(db) == 0


async def test_storage_down_keeps_the_attachment_and_its_owner(
    s3_env: S3Server, client_with: Clients, admin: Headers, db: Database
) -> None:
    prefix = f"att-{uuid.uuid4().hex[:8]}"
    client = on_s3(client_with, s3_env, prefix)
    machine = f"/api/v1/machines/{(await f.machine(client, admin))['id']}"
    location = (await attach(client, admin, machine)).headers["location"]
    down = on_s3(client_with, s3_env, prefix, UNREACHABLE)

    assert_problem(await down.delete(location, headers=admin), 503, "STORAGE_UNAVAILABLE")
    assert_problem(await down.delete(machine, headers=admin), 503, "STORAGE_UNAVAILABLE")
    assert (await client.get(machine, headers=admin)).status_code == 200
    assert len(objects(s3_env, prefix)) == 1 and await attachment_rows(db) == 1

    assert_problem(await attach(down, admin, machine), 503, "STORAGE_UNAVAILABLE")
    assert await attachment_rows(db) == 1  # the upload left no row

    assert (await client.delete(location, headers=admin)).status_code == 204
    assert objects(s3_env, prefix) == []
