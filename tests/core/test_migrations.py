"""upgrade -> downgrade base -> upgrade through the CLI, and "models == migrations", on every
backend, each on a database of its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings
from app.models import Base
from tests.databases import provision_database, selected_backends


def workshop(monkeypatch: pytest.MonkeyPatch, url: URL, *args: str) -> str:
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, list(args))
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output + str(result.exception)
    return result.stdout


async def table_names(url: URL) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", selected_backends())
async def test_upgrade_downgrade_upgrade_and_check(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with provision_database(backend, tmp_path) as url:

        def run(*args: str) -> str:
            return workshop(monkeypatch, url, *args)

        assert "empty database" in await asyncio.to_thread(run, "db", "current")
        assert "(head)" in await asyncio.to_thread(run, "db", "upgrade")
        assert set(Base.metadata.tables) <= await table_names(url)
        assert "match" in await asyncio.to_thread(run, "db", "check")

        await asyncio.to_thread(run, "db", "downgrade", "base")
        assert await table_names(url) <= {"alembic_version"}

        await asyncio.to_thread(run, "db", "upgrade")
        assert set(Base.metadata.tables) <= await table_names(url)
        assert "(head)" in await asyncio.to_thread(run, "db", "current")
        assert "match" in await asyncio.to_thread(run, "db", "check")
