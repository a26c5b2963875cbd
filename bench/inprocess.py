"""Requests through the app's whole ASGI stack in this process, without a server or a socket:
what one request costs the worker in CPU time, and what requests in flight together cost.

    uv run python bench/inprocess.py --db /tmp/lists.db   # a database bench/lists.py filled
    uv run python bench/inprocess.py --db /tmp/lists.db --concurrency 1,50
    uv run python bench/inprocess.py --db FILE --path /health --path "/api/v1/audit?limit=100"

CPU time (the process's, the SQLite threads' included) is steadier than wall time on a shared
machine: compare two versions of the code by running this for each, back to back. With
`--concurrency`, that many requests are kept in flight for `--seconds` and the rate and the
cores used are printed instead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import WORKSHOP, table

PATHS = [
    "/health",
    "/api/v1/workorders?limit=100",
    "/api/v1/workshop-entries?limit=100",
    "/api/v1/audit?limit=100",
]
BLOCKS = 5


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, required=True, help="a filled SQLite file")
    parser.add_argument("--path", action="append", help="a GET to time (repeatable)")
    parser.add_argument("--requests", type=int, default=1500, help="per path, in 5 blocks")
    parser.add_argument("--concurrency", help="requests in flight, e.g. 1,50 (rate mode)")
    parser.add_argument("--seconds", type=float, default=3.0, help="per rate measurement")
    args = parser.parse_args()
    url = f"sqlite+aiosqlite:///{args.db.resolve()}"
    os.environ.update(
        DATABASE_URL=url,
        LOG_LEVEL="WARNING",
        RATE_LIMIT_ENABLED="false",
        SCHEDULER_ENABLED="false",
    )
    os.environ.pop("CI", None)
    key = subprocess.run(
        [WORKSHOP, "api-key", "create", "--name", "bench-inprocess", "--role", "admin"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    rows = asyncio.run(measure(args.path or PATHS, key, args))
    if args.concurrency:
        title = f"Requests in flight through the app in-process, {args.seconds:g} s each"
        print(table(title, ["request", "in flight", "req/s", "cores used"], rows))
    else:
        title = (
            f"CPU time of one request at a time through the app in-process "
            f"({args.requests:,} each, in {BLOCKS} blocks)"
        )
        print(table(title, ["request", "best block µs", "median block µs"], rows))


async def measure(paths: list[str], key: str, args: argparse.Namespace) -> list[list[Any]]:
    from app.core.config import Settings
    from app.main import create_app

    app = create_app(Settings())
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {key}".encode())]

    async def get(target: str) -> int:
        path, _, query = target.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "root_path": "",
        }
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    rows: list[list[Any]] = []
    async with app.router.lifespan_context(app):
        for path in paths:
            if await get(path) != 200:
                raise SystemExit(f"GET {path} did not answer 200")
            for _ in range(50):  # warm: caches, the pool, the statement cache
                await get(path)
            if args.concurrency:
                for flight in (int(n) for n in args.concurrency.split(",")):
                    rate, cores = await in_flight(get, path, flight, args.seconds)
                    rows.append([f"GET {path}", flight, f"{rate:,.0f}", f"{cores:.2f}"])
                continue
            per_block = args.requests // BLOCKS
            blocks = []
            for _ in range(BLOCKS):
                started = time.process_time()
                for _ in range(per_block):
                    await get(path)
                blocks.append((time.process_time() - started) / per_block * 1e6)
            rows.append([f"GET {path}", f"{min(blocks):,.0f}", f"{statistics.median(blocks):,.0f}"])
    return rows


async def in_flight(get: Any, path: str, flight: int, seconds: float) -> tuple[float, float]:
    """Requests per second and cores used with `flight` requests kept in flight."""
    done = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await get(path)
            done += 1

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client() for _ in range(flight)))
    elapsed = time.perf_counter() - started
    return done / elapsed, (time.process_time() - cpu) / elapsed


if __name__ == "__main__":
    main()
