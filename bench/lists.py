"""List throughput and deep pages with a million rows, against a real uvicorn process.

    uv run python bench/lists.py                  # 1,000,000 rows each, SQLite, wrk 10 s each
    uv run python bench/lists.py --db /tmp/b.db   # keep (and reuse) the filled database
    uv run python bench/lists.py --workers 2 --connections 50 --seconds 10

Needs wrk (`apt-get install wrk`). Throughput is compared with the same server's `/health` in
the same run (shared cores: compare ratios, not absolute figures). Deep pages are timed one
request at a time: the entries list and the audit trail at `after_id` near row 900,000 against
their first pages, and the cost of `total` (a count over the table) against
`include_total=false`.

    uv run python bench/lists.py --db /tmp/b.db --profile   # and where the time goes (py-spy)
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import profile
from bench.common import serve, table, timed
from bench.dashboards import prepare

GOAL = 0.25  # of /health's requests per second


def wrk(
    url: str, headers: dict[str, str], seconds: int, connections: int, spy: int | None = None
) -> dict[str, Any]:
    """wrk's rate and latencies; with `spy` (the worker's pid), py-spy samples it meanwhile and
    the result carries `profile.shares` of the samples."""
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += [arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")]
    load = subprocess.Popen([*command, url], stdout=subprocess.PIPE, text=True)
    samples, spied = None, max(1, seconds - 2)
    if spy is not None:
        time.sleep(1)  # past the first connections
        samples = profile.record(spy, spied)
    out, _ = load.communicate()
    if load.returncode:
        raise RuntimeError(f"wrk failed: {out}")
    if "Non-2xx" in out:
        raise RuntimeError(f"{url}: errors under load\n{out}")

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    result: dict[str, Any] = {"rps": rate, "p50": ms("50"), "p99": ms("99")}
    if samples is not None:
        result["profile"] = profile.shares(samples, spied)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="SQLite file to fill once and reuse")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also sample the worker with py-spy under each load and print where the time goes",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/lists.py needs wrk: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as folder:
        work = Path(folder)
        path = (args.db or work / "lists.db").resolve()
        url = f"sqlite+aiosqlite:///{path}"
        prepare(url, f"sqlite:///{path}", args.rows)
        fill_audit(f"sqlite:///{path}", args.rows)
        rows: list[list[object]] = []
        profiles: list[tuple[str, Any]] = []
        with serve(
            url,
            work,
            RATE_LIMIT_ENABLED="false",
            SCHEDULER_ENABLED="false",
            workers=args.workers,
        ) as server:
            headers = server.headers
            spy = profile.worker_pid(server.process.pid) if args.profile else None
            health = wrk(f"{server.base}/health", {}, args.seconds, args.connections)
            rows.append(["GET /health", *_cells(health, health)])
            for name, target in [
                ("workorders?limit=100", "/api/v1/workorders?limit=100"),
                ("workshop-entries?limit=100", "/api/v1/workshop-entries?limit=100"),
                ("audit?limit=100", "/api/v1/audit?limit=100"),
            ]:
                url = f"{server.base}{target}"
                result = wrk(url, headers, args.seconds, args.connections, spy)
                rows.append([f"GET {name}", *_cells(result, health)])
                if "profile" in result:
                    profiles.append((name, result["profile"]))
            with server.client() as client:
                entries = "/api/v1/workshop-entries?limit=100"
                newest = (
                    "/api/v1/workshop-entries?sort_by=id&order=desc&limit=1&include_total=false"
                )
                last = client.get(newest).json()["items"]
                deep_id = int(last[0]["id"] * 0.9)
                first, _ = timed(client, f"{entries}&include_total=false", args.runs)
                deep, _ = timed(
                    client, f"{entries}&include_total=false&after_id={deep_id}", args.runs
                )
                counted, _ = timed(client, entries, args.runs)
                offset, _ = timed(client, f"{entries}&include_total=false&skip=900000", args.runs)
                trail = "/api/v1/audit?limit=100&include_total=false"
                newest = client.get("/api/v1/audit?limit=1&include_total=false")
                newest_event = newest.json()["items"][0]["id"]
                audit_first, _ = timed(client, trail, args.runs)
                audit_deep, _ = timed(
                    client, f"{trail}&after_id={int(newest_event * 0.1)}", args.runs
                )
                one_resource, _ = timed(
                    client, f"{trail}&resource=workorders&after_id={newest_event // 2}", args.runs
                )
    print(
        table(
            f"List throughput, {args.rows:,} rows per table, SQLite, {args.workers} worker(s), "
            f"wrk -c{args.connections} -d{args.seconds}s (goal: >= {GOAL:.0%} of /health)",
            ["request", "req/s", "p50 ms", "p99 ms", "of /health", "goal"],
            rows,
        )
    )
    print()
    print(
        table(
            f"Deep pages of the entries list (median of {args.runs}, one at a time)",
            ["request", "median ms", "vs first page"],
            [
                ["first page (include_total=false)", f"{first:.1f}", "1.0x"],
                [f"after_id={deep_id:,} (keyset)", f"{deep:.1f}", f"{deep / first:.1f}x"],
                ["skip=900000 (OFFSET)", f"{offset:.1f}", f"{offset / first:.1f}x"],
                ["first page with total (count)", f"{counted:.1f}", f"{counted / first:.1f}x"],
            ],
        )
    )
    print()
    print(
        table(
            f"Deep pages of the audit trail, newest first (median of {args.runs}, one at a time)",
            ["request", "median ms", "vs first page"],
            [
                ["first page (include_total=false)", f"{audit_first:.1f}", "1.0x"],
                [
                    "after_id at 10% of the ids (90% read before)",
                    f"{audit_deep:.1f}",
                    f"{audit_deep / audit_first:.1f}x",
                ],
                [
                    "resource=workorders, after_id halfway",
                    f"{one_resource:.1f}",
                    f"{one_resource / audit_first:.1f}x",
                ],
            ],
        )
    )

    for name, (held, components, leaves) in profiles:
        print()
        print(
            table(
                f"Where GET {name} spends the worker's time under load (py-spy --gil; "
                "samples by innermost known component)",
                ["component", "share"],
                profile.rows(held, components, leaves),
            )
        )


def fill_audit(sync_url: str, rows: int) -> None:
    """`rows` audit events (updates of work orders by a few actors) unless the trail holds
    some already (a kept `--db`)."""
    import sqlalchemy as sa

    from app.models import Base

    engine = sa.create_engine(sync_url)
    events = Base.metadata.tables["audit_events"]
    with engine.begin() as conn:
        if conn.scalar(sa.select(sa.func.count()).select_from(events)):
            return
        start = datetime.now(UTC) - timedelta(seconds=rows)
        for first in range(0, rows, 20_000):
            conn.execute(
                events.insert(),
                [
                    {
                        "at": start + timedelta(seconds=i),
                        "actor_kind": "user",
                        "actor_id": str(i % 7),
                        "actor_name": f"user{i % 7}@workshop.example",
                        "action": "update",
                        "resource": ("workorders", "machines", "items")[i % 3],
                        "resource_id": str(i % 5000),
                        "changes": {"status": ["open", "in_progress"]},
                        "request_id": f"{i:032x}",
                    }
                    for i in range(first, min(first + 20_000, rows))
                ],
            )
    engine.dispose()


def _cells(result: dict[str, Any], health: dict[str, float]) -> list[str]:
    share = result["rps"] / health["rps"]
    return [
        f"{result['rps']:,.0f}",
        f"{result['p50']:.1f}",
        f"{result['p99']:.1f}",
        f"{share:.0%}",
        "met" if share >= GOAL else "missed",
    ]


if __name__ == "__main__":
    main()
