"""Fixtures: one real database per backend for the whole run, emptied after every test.

Tests commit for real (no per-test rollback): concurrency tests need separate transactions, and
later the import pipeline and the scheduler open their own sessions. Emptying ~all tables after a
test costs a few milliseconds. See docs/Architecture_Decisions.md (ADR 0007).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import URL

from app.api_keys import service as api_keys
from app.auth.roles import Role
from app.core import migrations
from app.core.config import Settings
from app.core.db import Database
from app.main import create_app
from app.models import Base
from tests.databases import provision_database, selected_backends
from tests.tcp_proxy import TcpProxy

Headers = dict[str, str]
pytest_plugins = ["tests.s3_server", "tests.firebase_emulator"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # @pytest.mark.backends("mariadb", "postgresql") keeps a test to those backends.
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("backends")
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec else None
        if marker and backend and backend not in marker.args:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_terminal_summary(terminalreporter: Any) -> None:
    fuzz = sys.modules.get("tests.test_schemathesis")
    if fuzz is not None and fuzz.CASES["sent"]:
        terminalreporter.write_line(f"schemathesis: {fuzz.CASES['sent']} cases sent")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


async def wait_for(predicate: Any, timeout: float = 20, interval: float = 0.2) -> Any:
    """Wait for a state, not for a time: await `predicate()` until it is truthy; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await predicate():
            return result
        await asyncio.sleep(interval)
    raise AssertionError("condition not met in time")


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "development",
        "log_level": "WARNING",
        "scheduler_enabled": False,
        "list_total_cache_seconds": 0,  # exact totals: tests change rows between lists
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(upload_dir=tmp_path_factory.mktemp("uploads"))


@pytest.fixture(scope="session", params=selected_backends())
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[URL]:
    workdir: Path = tmp_path_factory.mktemp("db")
    async with provision_database(request.param, workdir) as url:
        await asyncio.to_thread(migrations.upgrade, url)
        yield url


@pytest.fixture(scope="session")
async def database(database_url: URL, settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings, database_url)
    yield db
    await db.dispose()


async def wipe(db: Database) -> None:
    async with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Database]:
    yield database
    await wipe(database)


@pytest.fixture
async def proxy(database_url: URL) -> AsyncIterator[TcpProxy]:
    """A TCP proxy to the test's database server that the test can cut and restore."""
    proxy = TcpProxy(database_url.host or "127.0.0.1", database_url.port or 0)
    await proxy.start()
    yield proxy
    await proxy.cut()


@pytest.fixture
def backend(db: Database) -> str:
    return db.dialect


@pytest.fixture
def app(db: Database, settings: Settings) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
    await app.state.importer.wait_idle()  # background imports end before the tables are emptied


MakeKey = Callable[..., Awaitable[Headers]]


@pytest.fixture
def make_key(db: Database) -> MakeKey:
    """Create an API key with a role; return the headers that send it."""

    async def make(role: Role = Role.admin, **kwargs: object) -> Headers:
        _, key = await db.run(
            lambda s: api_keys.create_api_key(s, name=f"test {role.value}", role=role, **kwargs)  # type: ignore[arg-type]
        )
        return {"Authorization": f"Bearer {key}"}

    return make


@pytest.fixture
async def admin(make_key: MakeKey) -> Headers:
    return await make_key(Role.admin)


@pytest.fixture
async def viewer(make_key: MakeKey) -> Headers:
    return await make_key(Role.viewer)
