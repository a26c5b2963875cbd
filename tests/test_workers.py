"""One truth across workers, with a real `workshop serve --workers 2` on loopback (ADR 0038):
/metrics sums both workers' counts, whichever answers it, and either worker shows a running
import's progress.

Which worker served what is read from the metrics directory itself: each worker counts in files
of its own (`counter_<pid>.db`)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.engine import URL

from app.core.db import Database
from tests.imports.files import MAPPING, cached_xlsx
from tests.imports.test_progress import day_totals_locked
from tests.test_smoke import free_port

pytestmark = pytest.mark.backends("mariadb", "postgresql")  # SQLite: one process, one writer
ROOT = Path(__file__).resolve().parents[1]
ROWS = 3000


def workshop(*args: str) -> list[str]:
    """The command line run from this checkout's code (the installed script may be another's)."""
    return [sys.executable, "-c", f"import sys; sys.argv={['workshop', *args]!r}; "
            "from app.cli import main; main()"]  # fmt: skip


def served_by_worker(metrics_dir: Path, route: str) -> dict[str, float]:
    """Requests to `route` per worker pid, from each worker's own counter file."""
    served = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = path.stem.split("_")[-1]
        served[pid] = sum(
            sample.value
            for metric in MultiProcessCollector.merge([str(path)])
            for sample in metric.samples
            if sample.name == "workshop_http_requests_total" and sample.labels["route"] == route
        )
    return served


def total_in(text: str, route: str) -> float:
    pattern = rf'^workshop_http_requests_total\{{[^}}]*route="{re.escape(route)}"[^}}]*\}} (\S+)$'
    return sum(float(m) for m in re.findall(pattern, text, re.MULTILINE))


@pytest.fixture
def server(database_url: URL, db: Database, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    metrics_dir = tmp_path / "metrics"
    env = {
        **os.environ,
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "LOG_LEVEL": "WARNING",
        "SCHEDULER_ENABLED": "false",
        "RATE_LIMIT_ENABLED": "false",
        "METRICS_ENABLED": "true",
        "IMPORT_SYNC_MAX_ROWS": "100",
        "IMPORT_CHUNK_ROWS": "500",
        "IMPORT_PROGRESS_SECONDS": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    env.pop("CI", None)
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale")  # an earlier run's: emptied at start
    made = subprocess.run(
        workshop("api-key", "create", "--name", "workers", "--role", "admin"),
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    key = made.stdout.split()[-1]
    port = free_port()
    proc = subprocess.Popen(
        workshop("serve", "--port", str(port), "--workers", "2"),
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # two interpreters importing the app on a busy machine
        while True:
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, f"the server exited with {proc.returncode}"
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        env["TEST_KEY"] = key
        yield base, env
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def get(base: str, path: str, key: str) -> httpx.Response:
    # A connection per request: the kernel hands new connections to either worker.
    return httpx.get(f"{base}{path}", headers={"X-API-Key": key}, timeout=30)


async def test_metrics_add_up_every_workers_counts(
    server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    base, env = server
    metrics_dir, route = tmp_path / "metrics", "/api/v1/machines"
    assert not (metrics_dir / "counter_1.db").exists()
    sent = 0
    while sent < 400:  # until both workers have answered some
        assert get(base, route, env["TEST_KEY"]).status_code == 200
        sent += 1
        if sent >= 20 and len([n for n in served_by_worker(metrics_dir, route).values() if n]) == 2:
            break
    per_worker = served_by_worker(metrics_dir, route)
    assert len([n for n in per_worker.values() if n]) == 2, per_worker
    assert sum(per_worker.values()) == sent
    for _ in range(4):  # whichever worker answers /metrics: the sum of both
        assert total_in(httpx.get(f"{base}/metrics", timeout=30).text, route) == sent


async def test_either_worker_shows_a_running_imports_progress(
    server: tuple[str, dict[str, str]], tmp_path: Path, db: Database
) -> None:
    base, env = server
    headers = {"X-API-Key": env["TEST_KEY"]}
    metrics_dir, route = tmp_path / "metrics", "/api/v1/imports/{import_id}"
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        machine = await client.post(
            "/api/v1/machines", json={"code": "W1", "name": "w", "type": "robot"}
        )
        template = await client.post(
            "/api/v1/templates",
            json={
                "name": "workers",
                "machine_id": machine.json()["id"],
                "sheet": "Daten",
                "mapping": MAPPING,
                "timestamp_field": "ts",
            },
        )
        async with day_totals_locked(db):  # the import stays running once its rows are in
            started = await client.post(
                f"/api/v1/templates/{template.json()['id']}/imports",
                files={"file": ("big.xlsx", cached_xlsx(ROWS))},
            )
            assert started.status_code == 202, started.text
            path = f"/api/v1/imports/{started.json()['id']}"
            deadline = time.monotonic() + 60
            while (seen := get(base, path, env["TEST_KEY"]).json())["rows_imported"] < ROWS:
                assert time.monotonic() < deadline, seen
                time.sleep(0.05)
            before = served_by_worker(metrics_dir, route)
            for _ in range(400):  # until both workers have answered some
                record = get(base, path, env["TEST_KEY"]).json()
                assert (record["status"], record["rows_imported"]) == ("running", ROWS)
                now = served_by_worker(metrics_dir, route)
                if len([p for p in now if now[p] > before.get(p, 0)]) == 2:
                    break
            else:
                pytest.fail(f"one worker answered every request: {now}")
