from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.core.config import Settings
from app.core.db import Database
from app.main import create_app
from app.models import ImportRecord, WorkshopEntry
from tests import factories as f
from tests.conftest import Headers, make_settings
from tests.imports.files import MAPPING


@pytest.fixture
async def template(client: httpx.AsyncClient, admin: Headers) -> dict[str, Any]:
    machine = await f.machine(client, admin)
    return await f.template(
        client,
        admin,
        machine["id"],
        sheet="Daten",
        mapping=MAPPING,
        timestamp_field="ts",
        timezone="Europe/Ljubljana",
    )


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def counts(db: Database) -> tuple[int, int]:
    async def work(session: Any) -> tuple[int, int]:
        imports = await session.scalar(select(func.count()).select_from(ImportRecord))
        entries = await session.scalar(select(func.count()).select_from(WorkshopEntry))
        return int(imports), int(entries)

    return await db.run(work, write=False)


Upload = Callable[..., Any]


@pytest.fixture
def upload(client: httpx.AsyncClient, admin: Headers, template: dict[str, Any]) -> Upload:
    async def send(
        content: bytes,
        filename: str = "export.xlsx",
        headers: Headers | None = None,
        template_id: int | None = None,
        **params: Any,
    ) -> httpx.Response:
        return await client.post(
            f"/api/v1/templates/{template_id or template['id']}/imports",
            files={"file": (filename, content, "application/octet-stream")},
            params={k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()},
            headers=headers or admin,
        )

    return send


@pytest.fixture
def app_with(db: Database, tmp_path: Path) -> Callable[..., FastAPI]:
    """An app with its own settings (limits) on the test database."""

    def make(**overrides: Any) -> FastAPI:
        settings: Settings = make_settings(upload_dir=tmp_path / "uploads", **overrides)
        return create_app(settings, database=db)

    return make


@pytest.fixture
async def client_with(app_with: Callable[..., FastAPI]) -> AsyncIterator[Callable[..., Any]]:
    clients: list[httpx.AsyncClient] = []

    def make(**overrides: Any) -> httpx.AsyncClient:
        app = app_with(**overrides)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        client.app = app  # type: ignore[attr-defined]
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.app.state.importer.wait_idle()  # type: ignore[attr-defined]
        await client.aclose()


@dataclass
class Seen:
    pids: set[int] = field(default_factory=set)
    most: int = 0  # parser processes alive at once


def parser_processes() -> set[int]:
    found = set()
    for child in psutil.Process().children():
        try:
            if "app.imports.parser" in child.cmdline():
                found.add(child.pid)
        except psutil.Error:  # gone meanwhile
            pass
    return found


@asynccontextmanager
async def watching_parsers() -> AsyncIterator[Seen]:
    """The parser processes this test process starts while inside, sampled every 5 ms (each
    lives far longer: an interpreter starts and imports the spreadsheet library)."""
    seen = Seen()
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            alive = parser_processes()
            seen.pids |= alive
            seen.most = max(seen.most, len(alive))
            await asyncio.sleep(0.005)

    task = asyncio.create_task(sample())
    try:
        yield seen
    finally:
        stop.set()
        await task
