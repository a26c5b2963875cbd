"""The README's path, for real: migrate, make an admin key, serve with uvicorn, call it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

WORKSHOP = str(Path(sys.executable).parent / "workshop")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_migrate_create_key_serve_and_call(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'smoke.db'}",
        "LOG_LEVEL": "INFO",
    }
    env.pop("CI", None)
    run = {"env": env, "cwd": tmp_path, "capture_output": True, "text": True, "timeout": 60}
    subprocess.run([WORKSHOP, "db", "upgrade"], check=True, **run)  # type: ignore[call-overload]
    created = subprocess.run(  # type: ignore[call-overload]
        [WORKSHOP, "api-key", "create", "--name", "first admin", "--role", "admin"],
        check=True,
        **run,
    )
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("wk_")

    port = free_port()
    server = subprocess.Popen(
        [WORKSHOP, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert health.status_code == 200
        me = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
        assert me.status_code == 200
        assert me.json()["role"] == "admin"
        anonymous = httpx.get(f"{base}/api/v1/auth/me")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert anonymous.json()["request_id"] == anonymous.headers["x-request-id"]
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    # uvicorn finishes in-flight work, then re-raises SIGTERM as its exit status.
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert '"route": "/api/v1/auth/me"' in output  # the JSON access line
