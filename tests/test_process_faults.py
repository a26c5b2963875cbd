"""Process faults with a real uvicorn: kill -9 mid-import, SIGTERM mid-request."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from app.core.db import Database
from app.models import WorkshopEntry
from tests.imports import files
from tests.imports.files import MAPPING
from tests.test_smoke import WORKSHOP, free_port

pytestmark = pytest.mark.backends("postgresql")


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [WORKSHOP, "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.base}/health", timeout=1)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=60)


@pytest.fixture
def server(database_url: URL, tmp_path: Path, db: Database) -> Iterator[Server]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "LOG_LEVEL": "WARNING",
        "SCHEDULER_ENABLED": "false",
        "RATE_LIMIT_ENABLED": "false",
        "IMPORT_SYNC_MAX_ROWS": "100",
        "IMPORT_CHUNK_ROWS": "1000",
        "MAX_FILE_SIZE": str(50 * 2**20),
    }
    env.pop("CI", None)
    key = subprocess.run(
        [WORKSHOP, "api-key", "create", "--name", "faults", "--role", "admin"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    env["TEST_KEY"] = key
    running = Server(env)
    yield running
    if running.proc is not None and running.proc.poll() is None:
        running.proc.kill()
        running.proc.wait()


def setup_template(client: httpx.Client) -> int:
    machine = client.post(
        "/api/v1/machines", json={"code": "F1", "name": "f", "type": "robot"}
    ).json()
    template = client.post(
        "/api/v1/templates",
        json={
            "name": "faults",
            "machine_id": machine["id"],
            "sheet": "Daten",
            "mapping": MAPPING,
            "timestamp_field": "ts",
        },
    )
    assert template.status_code == 201, template.text
    return int(template.json()["id"])


async def test_kill_9_during_an_import_leaves_no_entries_and_fails_it_at_the_next_start(
    server: Server, db: Database
) -> None:
    server.start()
    headers = {"Authorization": f"Bearer {server.env['TEST_KEY']}"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
        template_id = setup_template(client)
        response = client.post(
            f"/api/v1/templates/{template_id}/imports",
            files={"file": ("big.xlsx", files.cached_xlsx(60_000))},
        )
        assert response.status_code == 202, response.text
        url = response.headers["location"]
        deadline = time.monotonic() + 60
        while (state := client.get(url).json())["rows_imported"] == 0:  # inserting has begun
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert state["status"] == "running", "the import ended before it could be killed"
    server.signal(signal.SIGKILL)

    entries = await db.run(
        lambda s: s.scalar(select(func.count()).select_from(WorkshopEntry)), write=False
    )
    assert entries == 0, "the import's transaction died with the process"
    server.start()
    with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:
        record = client.get(url).json()
        assert record["status"] == "failed"
        assert "Interrupted" in record["message"]
        again = client.post(
            f"/api/v1/templates/{template_id}/imports",
            files={"file": ("big.xlsx", files.cached_xlsx(60_000))},
        )
        assert again.status_code == 202, "the failed import released the file"
    server.signal(signal.SIGTERM)


async def test_sigterm_lets_the_request_in_flight_finish(server: Server) -> None:
    server.env["IMPORT_SYNC_MAX_ROWS"] = str(10**9)
    server.env["IMPORT_SYNC_MAX_BYTES"] = str(2**30)
    server.start()
    headers = {"Authorization": f"Bearer {server.env['TEST_KEY']}"}
    result: dict[str, Any] = {}
    with httpx.Client(base_url=server.base, headers=headers, timeout=120) as client:
        template_id = setup_template(client)

        content = files.cached_xlsx(60_000)  # built before the clock starts

        def upload() -> None:
            result["response"] = client.post(
                f"/api/v1/templates/{template_id}/imports", files={"file": ("big.xlsx", content)}
            )

        sender = threading.Thread(target=upload)
        sender.start()
        with httpx.Client(base_url=server.base, headers=headers, timeout=10) as watcher:
            deadline = time.monotonic() + 60
            while not watcher.get("/api/v1/imports", params={"status": "running"}).json()["total"]:
                assert time.monotonic() < deadline, "the upload never started importing"
                time.sleep(0.05)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        sender.join(timeout=120)
        server.proc.wait(timeout=60)
    response = result["response"]
    assert response.status_code == 201, response.text
    assert response.json()["rows_imported"] == 60_000
