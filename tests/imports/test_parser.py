"""The parser process: what it is given, what it sends back, and how many run at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.conformance import checks
from app.conformance.runs import BITS, Context, WeldPlan, WpsPlan
from app.core.db import Database
from app.imports import parsing
from app.imports.parsing import Parsers, run_parser
from app.imports.protocol import Chunk, End, ParserJob, Rows, Totals, decode
from app.models import EntryDayTotal
from tests.conftest import Headers, make_settings
from tests.core.test_errors import assert_problem
from tests.imports import files
from tests.imports.conftest import Upload, watching_parsers
from tests.imports.files import MAPPING

# Stands in for the parser: reads its job, answers with the names in its environment.
ENV_PROBE = """
import os, sys, orjson
sys.stdin.buffer.read()
for message in (
    {"type": "rows", "headers": sorted(os.environ), "rows": []},
    {"type": "end", "rows_total": 0, "rows_failed": 0},
):
    sys.stdout.buffer.write(orjson.dumps(message) + b"\\n")
"""
SECRETS = {
    "DATABASE_URL": "postgresql://workshop:hunter2@db/workshop",
    "DB_PASSWORD": "hunter2",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_SESSION_TOKEN": "token",
    "FIREBASE_SERVICE_ACCOUNT_PATH": "/run/secrets/firebase.json",
    "FIREBASE_PROJECT_ID": "workshop-prod",
    "GOOGLE_APPLICATION_CREDENTIALS": "/run/secrets/gcp.json",
    "ALERT_WEBHOOK_URL": "https://hooks.example/T0K3N",
}


async def test_the_parser_process_gets_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(parsing, "PARSER", ("-c", ENV_PROBE))
    job = ParserJob(path="/nonexistent.xlsx", sheet=None, header_row=1)
    names: list[str] = []
    settings = make_settings()
    async for message in run_parser(settings, job, Parsers(settings)):
        if isinstance(message, Rows):
            names = message.headers
    assert "PATH" in names
    assert not set(names) & set(SECRETS)
    assert set(names) <= {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "TMPDIR"} | {
        "COVERAGE_PROCESS_CONFIG",  # under coverage only (make test)
        "COVERAGE_PROCESS_START",
    }


def parse(path: Path, **job: Any) -> list[bytes]:
    """The parser process's stdout lines for a job on `path` (the template of the tests)."""
    fields: dict[str, Any] = {
        "path": str(path),
        "sheet": "Daten",
        "header_row": 1,
        "mapping": MAPPING,
        "timestamp_field": "ts",
        "timezone": "UTC",
        "max_memory": 2 * 1024**3,
        "cpu_seconds": 120,
        "chunk_rows": 5000,
        "max_errors": 1000,
        "max_cell_chars": 32767,
        "message_max_bytes": BOUND,
        **job,
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.imports.parser"],
        input=ParserJob(**fields).encode(),
        capture_output=True,
        check=True,
        timeout=120,
    )
    return done.stdout.splitlines(keepends=True)


BOUND = 64 * 1024


def test_chunks_are_cut_by_their_size_in_bytes(tmp_path: Path) -> None:
    path = tmp_path / "long.xlsx"
    path.write_bytes(files.long_text_xlsx(1000, 20_000))  # 20 MB of text from 30 KB
    lines = parse(path)
    assert max(len(line) for line in lines) <= BOUND
    messages = [decode(line) for line in lines]
    chunks = [m for m in messages if isinstance(m, Chunk)]
    assert len(chunks) > 100  # three rows a chunk, not 5000
    assert sum(len(c.entries) for c in chunks) == 1000
    assert messages[-1] == End(1000, 0)


def test_errors_totals_and_rows_are_cut_by_their_size_too(tmp_path: Path) -> None:
    path = tmp_path / "long.xlsx"
    data = files.rows(3000)
    for day, row in enumerate(data):
        row[0] = dt.datetime(2020, 1, 1) + dt.timedelta(days=day)  # 12,000 day totals
        if day % 2:
            row[2] = "W" * 20_000
    path.write_bytes(files.xlsx(data))
    lines = parse(path, max_cell_chars=2000)
    assert max(len(line) for line in lines) <= BOUND
    messages = [decode(line) for line in lines]
    errors = [e for m in messages if isinstance(m, Chunk) for e in m.errors]
    assert len(errors) == 1000 and {e["column"] for e in errors} == {"Seam"}
    assert len([m for m in messages if isinstance(m, Totals)]) > 1
    assert sum(len(m.rows) for m in messages if isinstance(m, Totals)) == 1500 * 4
    assert messages[-1] == End(3000, 1500)

    wanted = [2 * n + 3 for n in range(1000)]
    lines = parse(path, mode="rows", rows=wanted, max_cell_chars=2000)
    assert max(len(line) for line in lines) <= BOUND
    parts = [m for m in map(decode, lines) if isinstance(m, Rows)]
    assert len(parts) > 1 and parts[0].headers == files.HEADER
    found = [row for part in parts for row in part.rows]
    assert [number for number, _ in found] == wanted
    assert found[0][1][2] == "W" * 2000  # a text too long, shown cut to the limit


def test_a_chunks_runs_are_counted_by_their_group_within_its_bytes(tmp_path: Path) -> None:
    """A run template's chunk counts its runs by day, welder, WPS, weld, verdict and failures;
    the counts travel in the chunk, within its byte budget, and add up to its runs."""
    ranges = checks.PassRanges("WPS-1 rev 1", 1, current=(180, 260))
    context = Context(
        badges={"B1": 11, "B2": 12},
        wps=[WpsPlan(5, "WPS-1", 1, "135", {1: ranges})],
        welds=[WeldPlan(7, "WO-1", "W-1", "WPS-1", "135", True)],
    )
    header = ["Timestamp", "Badge", "WPS", "Weld", "Current [A]", "Voltage [V]"]
    start = dt.datetime(2020, 1, 1, 9)
    data = [  # a new day every other run, two welders: many groups, every 9th run fails
        [start + dt.timedelta(hours=12 * i), f"B{1 + i % 2}", "WPS-1", "W-1", 200, 24]
        for i in range(600)
    ]
    for i in range(0, 600, 9):
        data[i][4] = 265
    path = tmp_path / "runs.xlsx"
    path.write_bytes(files.xlsx(data, header))
    fields = ["ts", "welder_badge", "wps_number", "weld_reference", "current_a", "voltage_v"]
    kinds = ["datetime", "string", "string", "string", "number", "number"]
    mapping = [
        {"column": column, "field": field, "type": kind}
        for column, field, kind in zip(header, fields, kinds, strict=True)
    ]
    bound = 4096
    lines = parse(path, mapping=mapping, runs=context.encode(), message_max_bytes=bound)
    assert max(len(line) for line in lines) <= bound
    chunks = [m for m in map(decode, lines) if isinstance(m, Chunk)]
    assert len(chunks) > 20
    for chunk in chunks:
        counted: Counter[tuple[Any, ...]] = Counter()
        for _, recorded_at, _, run in chunk.entries:
            counted[recorded_at[:10], run[0], run[1], run[2], run[5], run[7]] += 1
        assert Counter({tuple(g[:-1]): g[-1] for g in chunk.runs}) == counted
        assert chunk.unresolved == 0
    groups = [g for chunk in chunks for g in chunk.runs]
    assert sum(g[-1] for g in groups) == 600
    assert sum(g[-1] for g in groups if g[4] == "fail" and g[5] == BITS["current"]) == 67
    assert {tuple(g[1:4]) for g in groups} == {(11, 5, 7), (12, 5, 7)}


async def test_a_long_text_cell_is_a_row_error_naming_its_column(upload: Upload) -> None:
    response = await upload(files.long_text_xlsx(5000, 20_000), dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows_total"], report["rows_failed"]) == (5000, 5000)
    assert len(report["errors"]) == 1000
    first = report["errors"][0]
    assert (first["row"], first["column"], first["field"]) == (2, "Seam", "seam")
    assert "longer than 2000 characters (IMPORT_MAX_CELL_CHARS)" in first["message"]


async def test_an_import_with_many_day_totals_counts_every_day(
    client_with: Any, admin: Headers, template: dict[str, Any], db: Database
) -> None:
    client = client_with(import_message_max_bytes=BOUND)
    data = files.rows(2000)
    for day, row in enumerate(data):
        row[0] = dt.datetime(2020, 1, 1, 12) + dt.timedelta(days=day)
    response = await client.post(
        f"/api/v1/templates/{template['id']}/imports",
        files={"file": ("days.xlsx", files.xlsx(data))},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    stmt = select(func.count()).select_from(EntryDayTotal)
    assert await db.run(lambda s: s.scalar(stmt), write=False) == 2000 * 4


async def test_parallel_requests_run_at_most_max_parsers(
    client_with: Any, admin: Headers, template: dict[str, Any]
) -> None:
    client = client_with(import_max_parsers=2, rate_limit_enabled=False)
    url = f"/api/v1/templates/{template['id']}/imports"
    content = files.cached_xlsx(2000)

    async def dry_run() -> httpx.Response:
        return await client.post(
            url, params={"dry_run": "true"}, files={"file": ("a.xlsx", content)}, headers=admin
        )

    async with watching_parsers() as seen:
        responses = await asyncio.gather(*(dry_run() for _ in range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert len(seen.pids) == 8
    assert seen.most == 2


async def test_a_request_waiting_past_its_time_for_a_parser_is_503(
    client_with: Any, admin: Headers, template: dict[str, Any]
) -> None:
    client = client_with(import_max_parsers=1, import_parser_wait_seconds=0.2)
    parsers = client.app.state.importer.parsers  # type: ignore[attr-defined]
    url = f"/api/v1/templates/{template['id']}/imports"
    content = files.xlsx(files.rows(5))
    async with parsers.slot():  # the only parser is busy
        busy = await client.post(
            url, params={"dry_run": "true"}, files={"file": ("a.xlsx", content)}, headers=admin
        )
        refused = await client.post(url, files={"file": ("a.xlsx", content)}, headers=admin)
    problem = assert_problem(busy, 503, "PARSERS_BUSY")
    assert busy.headers["retry-after"] == "1"
    assert "IMPORT_MAX_PARSERS" in str(problem["detail"])
    assert_problem(refused, 503, "PARSERS_BUSY")
    imported = await client.post(url, files={"file": ("a.xlsx", content)}, headers=admin)
    assert imported.status_code == 201, "a refused upload left no claim on the file"


async def test_a_background_import_queues_for_a_parser(
    client_with: Any, admin: Headers, template: dict[str, Any]
) -> None:
    client = client_with(
        import_max_parsers=1, import_parser_wait_seconds=0.1, import_sync_max_bytes=0
    )
    parsers = client.app.state.importer.parsers  # type: ignore[attr-defined]
    async with parsers.slot():
        response = await client.post(
            f"/api/v1/templates/{template['id']}/imports",
            files={"file": ("a.xlsx", files.xlsx(files.rows(5)))},
            headers=admin,
        )
        assert response.status_code == 202, response.text
        await asyncio.sleep(0.5)  # well past IMPORT_PARSER_WAIT_SECONDS: nobody waits on it
        record = (await client.get(response.headers["location"], headers=admin)).json()
        assert record["status"] == "running"
    await client.app.state.importer.wait_idle()  # type: ignore[attr-defined]
    record = (await client.get(response.headers["location"], headers=admin)).json()
    assert record["status"] == "completed" and record["rows_imported"] == 5


# Answers at once, then holds the pipe open: the caller's own work takes the time.
QUICK_PROBE = """
import sys, time, orjson
sys.stdin.buffer.read()
for message in (
    {"type": "start", "sheet": "s", "rows": 3},
    *({"type": "chunk", "entries": [[i, None, {}]], "errors": [], "failed": 0} for i in range(3)),
    {"type": "end", "rows_total": 3, "rows_failed": 0},
):
    sys.stdout.buffer.write(orjson.dumps(message) + b"\\n")
    sys.stdout.buffer.flush()
"""
# Says it starts, then never answers again.
STALLED_PROBE = """
import sys, time, orjson
sys.stdin.buffer.read()
sys.stdout.buffer.write(orjson.dumps({"type": "start", "sheet": "s", "rows": 1}) + b"\\n")
sys.stdout.buffer.flush()
time.sleep(60)
"""


async def test_the_parse_deadline_never_fires_in_the_callers_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slow consumer (an insert) past the deadline is not cancelled: the deadline guards the
    waits on the parser, and a parser that stalls is the 422, never a bare cancellation."""
    settings = make_settings(import_parse_timeout=0.5)
    job = ParserJob(path="/nonexistent.xlsx", sheet=None, header_row=1)
    monkeypatch.setattr(parsing, "PARSER", ("-c", QUICK_PROBE))
    got = []
    async for message in run_parser(settings, job, Parsers(settings)):
        got.append(type(message).__name__)
        await asyncio.sleep(0.3)  # 1.5 s of the caller's work in all, three times the deadline
    assert got == ["Start", "Chunk", "Chunk", "Chunk", "End"]
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]

    monkeypatch.setattr(parsing, "PARSER", ("-c", STALLED_PROBE))
    with pytest.raises(Exception) as stalled:  # noqa: PT011 - the AppError's type is checked below
        async for _ in run_parser(settings, job, Parsers(settings)):
            pass
    assert getattr(stalled.value, "error_code", None) == "PARSE_TIMEOUT"
