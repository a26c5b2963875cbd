"""The `workshop` command in-process, on a SQLite database of its own."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from app.core import migrations
from app.core.config import get_settings


@pytest.fixture
def workshop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    migrations.upgrade(url)

    def run(*args: str, code: int = 0) -> Result:
        get_settings.cache_clear()
        result = CliRunner().invoke(cli, list(args))
        assert result.exit_code == code, result.output + repr(result.exception)
        return result

    yield run
    get_settings.cache_clear()


def test_api_key_lifecycle(workshop) -> None:  # type: ignore[no-untyped-def]
    created = workshop("api-key", "create", "--name", "cell 3", "--role", "operator")
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("wk_")
    assert "store it now" in created.stderr

    listed = workshop("api-key", "list").stdout
    assert "cell 3" in listed and "operator" in listed and "active" in listed
    assert key not in listed
    key_id = listed.split("\t")[0]

    assert "revoked" in workshop("api-key", "revoke", key_id).stdout
    assert "cell 3" not in workshop("api-key", "list").stdout
    assert "revoked" in workshop("api-key", "list", "--include-revoked").stdout
    failed = workshop("api-key", "revoke", key_id, code=1)
    assert "already revoked" in failed.stderr
    assert "does not exist" in workshop("api-key", "revoke", "9999", code=1).stderr


def test_expiring_key_and_bad_role(workshop) -> None:  # type: ignore[no-untyped-def]
    workshop("api-key", "create", "--name", "temp", "--role", "viewer", "--expires-days", "3")
    assert "temp" in workshop("api-key", "list").stdout
    workshop("api-key", "create", "--name", "x", "--role", "boss", code=2)


def test_bootstrap_makes_one_admin_key_only(workshop) -> None:  # type: ignore[no-untyped-def]
    first = workshop("api-key", "bootstrap")
    assert first.stdout.strip().startswith("wk_")
    second = workshop("api-key", "bootstrap")
    assert "exists already" in second.stdout
    assert "wk_" not in second.stdout


def test_openapi_is_written(workshop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "openapi.json"
    workshop("openapi", "--output", str(out))
    spec = json.loads(out.read_text())
    assert "/api/v1/auth/me" in spec["paths"]
    assert json.loads(workshop("openapi").stdout)["info"]["title"] == spec["info"]["title"]


def test_db_commands(workshop) -> None:  # type: ignore[no-untyped-def]
    assert "(head)" in workshop("db", "current").stdout
    assert "match" in workshop("db", "check").stdout
    assert "empty database" in workshop("db", "downgrade", "base").stdout
    assert "(head)" in workshop("db", "upgrade").stdout


def test_seed_refuses_a_filled_database_unless_forced(workshop) -> None:  # type: ignore[no-untyped-def]
    assert "seeded: 6 machines" in workshop("seed").stdout
    assert "not empty" in workshop("seed", code=1).stderr
    assert "not seeding" in workshop("seed", "--if-empty").stdout
    assert "seeded:" in workshop("seed", "--force").stdout


def test_import_a_file_from_the_command_line(
    workshop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from tests.imports import files

    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))
    workshop("seed")  # template 1: the Fronius WeldCube export
    header = [
        "Timestamp",
        "Job",
        "Seam",
        "Arc time [s]",
        "Current [A]",
        "Voltage [V]",
        "Wire [m]",
        "Gas [l]",
    ]
    data = [[row[0], row[1], row[2], row[3], 180, 24.5, row[4], 12] for row in files.rows(30)]
    good = tmp_path / "cell1.xlsx"
    good.write_bytes(files.xlsx(data, header=header, sheet="Sheet1"))
    result = workshop("import", str(good), "--template", "1")
    assert "30 rows imported, 0 skipped" in result.stdout
    again = workshop("import", str(good), "--template", "1", code=1)
    assert "imported already" in again.stderr
    assert "30 rows imported" in workshop("import", str(good), "--template", "1", "--force").stdout

    data[4][3] = "n/a"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(files.xlsx(data, header=header, sheet="Sheet1"))
    failed = workshop("import", str(bad), "--template", "1", code=1)
    assert "row 6, Arc time [s]" in failed.stderr
    skipped = workshop("import", str(bad), "--template", "1", "--on-error", "skip")
    assert "29 rows imported, 1 skipped" in skipped.stdout
    workshop("import", str(bad), "--template", "1", "--on-error", "maybe", code=2)
    assert "does not exist" in workshop("import", str(good), "--template", "99", code=1).stderr


async def test_a_key_revoked_from_the_cli_stops_a_polling_client(workshop) -> None:  # type: ignore[no-untyped-def]
    """`workshop api-key revoke` reaches a running server within AUTH_CACHE_SECONDS, even
    while the key keeps calling it."""
    from app.core.db import Database
    from tests.auth.workers import answers, poll, seconds_until, worker
    from tests.conftest import make_settings

    # The command runs its own event loop: in a thread, beside this test's.
    created = await asyncio.to_thread(
        workshop, "api-key", "create", "--name", "poller", "--role", "viewer"
    )
    key = created.stdout.strip().splitlines()[-1]
    key_id = (await asyncio.to_thread(workshop, "api-key", "list")).stdout.split("\t")[0]
    headers = {"X-API-Key": key}
    cache = 1.0  # /auth/me counts against the sign-in budget: one large enough to poll
    polling = {"auth_cache_seconds": cache, "rate_limit_auth": "600/minute"}
    db = Database(make_settings(database_url=os.environ["DATABASE_URL"]))
    try:
        async with worker(db, **polling) as (client, _):
            me = lambda: client.get("/api/v1/auth/me", headers=headers)  # noqa: E731
            assert set(await poll(me, 2 * cache)) == {200}
            await asyncio.to_thread(workshop, "api-key", "revoke", key_id)
            assert await seconds_until(answers(401, me), 4 * cache) <= cache + 1
    finally:
        await db.dispose()
