"""Real databases for the tests: a fresh, uniquely named database per use, dropped after.

The machine's MariaDB and PostgreSQL are shared by every test run (and CI), so a run never
touches a database it did not create. Server URLs can be overridden with TEST_MARIADB_URL and
TEST_POSTGRES_URL. Under CI=true a server that cannot be reached fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

SERVER_URLS = {
    "mariadb": os.environ.get("TEST_MARIADB_URL", "mysql+asyncmy://root@127.0.0.1:3306/mysql"),
    "postgresql": os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    ),
}
ALL_BACKENDS = ("sqlite", "mariadb", "postgresql")


def selected_backends() -> list[str]:
    wanted = os.environ.get("TEST_BACKENDS", ",".join(ALL_BACKENDS))
    names = [name.strip() for name in wanted.split(",") if name.strip()]
    unknown = set(names) - set(ALL_BACKENDS)
    if unknown:
        raise pytest.UsageError(f"TEST_BACKENDS: unknown backend(s) {sorted(unknown)}")
    return names


def unavailable(backend: str, reason: object) -> None:
    message = f"{backend} is not reachable ({reason})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message}: under CI every backend is required", pytrace=False)
    pytest.skip(message)


@asynccontextmanager
async def provision_database(backend: str, workdir: Path) -> AsyncIterator[URL]:
    """Create an empty database on `backend`, yield its URL, drop it afterwards."""
    name = f"workshop_test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        yield make_url(f"sqlite+aiosqlite:///{workdir / (name + '.db')}")
        return
    server = make_url(SERVER_URLS[backend])
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:
        await admin.dispose()
        unavailable(backend, exc)
    try:
        yield server.set(database=name)
    finally:
        async with admin.connect() as conn:
            if backend == "postgresql":
                await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                await conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        await admin.dispose()
