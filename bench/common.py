"""Helpers for the benchmarks: a real uvicorn process on a fresh database, with an admin key."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
WORKSHOP = str(Path(sys.executable).parent / "workshop")
SERVERS = {
    "mariadb": (
        "mysql+pymysql://root@127.0.0.1:3306/mysql",
        "mysql+asyncmy://root@127.0.0.1:3306/{db}",
    ),
    "postgresql": (
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        "postgresql+asyncpg://postgres@127.0.0.1:5432/{db}",
    ),
}


@dataclass
class Server:
    base: str
    headers: dict[str, str]
    process: subprocess.Popen[bytes]
    database_url: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=self.headers, timeout=3600)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def database(backend: str, workdir: Path, keep: Path | None = None) -> Iterator[tuple[str, str]]:
    """(async URL for the app, sync URL for pandas) of a fresh database, dropped afterwards;
    for SQLite, `keep` names a file to use (and keep) instead."""
    if backend == "sqlite":
        path = (keep or workdir / f"bench-{uuid.uuid4().hex[:6]}.db").resolve()
        yield f"sqlite+aiosqlite:///{path}", f"sqlite:///{path}"
        return
    import sqlalchemy

    admin_url, app_url = SERVERS[backend]
    name = f"workshop_bench_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    try:
        sync = admin_url.rsplit("/", 1)[0] + f"/{name}"
        yield app_url.format(db=name), sync
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f"DROP DATABASE {name}"))
        admin.dispose()


@contextmanager
def serve(database_url: str, workdir: Path, workers: int = 1, **env: str) -> Iterator[Server]:
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "UPLOAD_DIR": str(workdir / "uploads"),
        **env,
    }
    environ.pop("CI", None)
    subprocess.run([WORKSHOP, "db", "upgrade"], env=environ, check=True, capture_output=True)
    key = subprocess.run(
        [WORKSHOP, "api-key", "create", "--name", "bench", "--role", "admin"],
        env=environ,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    port = free_port()
    process = subprocess.Popen(
        [WORKSHOP, "serve", "--port", str(port), "--workers", str(workers)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/health")
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("server did not start") from None
            time.sleep(0.2)
    try:
        yield Server(base, {"Authorization": f"Bearer {key}"}, process, database_url)
    finally:
        process.terminate()
        process.wait(timeout=30)


def timed(client: httpx.Client, path: str, runs: int) -> tuple[float, float]:
    """Median and worst milliseconds of `runs` GETs of `path`, one at a time, after a warm-up."""
    client.get(path).raise_for_status()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def table(title: str, header: list[str], rows: list[list[object]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = "  ".join("-" * w for w in widths)
    out = [
        title,
        line,
        "  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)),
        line,
    ]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([*out, line])
