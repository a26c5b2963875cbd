"""Attachments' fixtures: an app with an upload folder of its own per test (to look at what is
stored), owners of every kind, and files of every kind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.core.db import Database
from app.main import create_app
from app.models import Attachment
from tests import factories as f
from tests.conftest import Headers, make_settings

# The smallest files of each kind the API accepts, by their first bytes.
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32) + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
TIFF_LE = b"II*\x00\x08\x00\x00\x00" + bytes(16)
TIFF_BE = b"MM\x00*\x00\x00\x00\x08" + bytes(16)
# What it refuses (415), whatever the name.
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(64)
MZ = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(64)
ZIP = b"PK\x03\x04" + bytes(64)

OwnerKind = str
OWNER_KINDS = [
    "qualifications",
    "inspections",
    "workorders",
    "welds",
    "equipment",
    "machines",
    "wps",
]


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def app(db: Database, uploads: Path) -> FastAPI:
    return create_app(make_settings(upload_dir=uploads, rate_limit_enabled=False), database=db)


@pytest.fixture
async def client_with(
    db: Database, uploads: Path
) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """Another app on the same database, with its own settings (limits, S3)."""
    clients: list[httpx.AsyncClient] = []

    def make(**overrides: Any) -> httpx.AsyncClient:
        values: dict[str, Any] = {"upload_dir": uploads, "rate_limit_enabled": False, **overrides}
        app = create_app(make_settings(**values), database=db)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def stored(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def attachment_rows(db: Database) -> int:
    async def count(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(Attachment)))

    return await db.run(count, write=False)


async def make_owner(client: httpx.AsyncClient, admin: Headers, kind: OwnerKind) -> int:
    """A new row of the owner kind; its id."""
    if kind == "qualifications":
        employee = await f.employee(client, admin)
        url = f"/api/v1/employees/{employee['id']}/qualifications"
        return int((await f.post(client, admin, url, f.qualification_payload()))["id"])
    if kind == "welds":
        order = await f.work_order(client, admin)
        url = f"/api/v1/workorders/{order['id']}/welds"
        return int((await f.post(client, admin, url, f.weld_payload()))["id"])
    payloads: dict[str, Callable[[], dict[str, Any]]] = {
        "inspections": f.inspection_payload,
        "workorders": f.work_order_payload,
        "equipment": f.equipment_payload,
        "machines": f.machine_payload,
        "wps": f.wps_payload,
    }
    return int((await f.post(client, admin, f"/api/v1/{kind}", payloads[kind]()))["id"])


async def attach(
    client: httpx.AsyncClient,
    headers: Headers,
    url: str,
    content: bytes = PDF,
    filename: str = "certificate.pdf",
    content_type: str = "application/octet-stream",
) -> httpx.Response:
    return await client.post(
        f"{url}/attachments", files={"file": (filename, content, content_type)}, headers=headers
    )
