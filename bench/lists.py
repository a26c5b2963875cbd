"""List throughput and deep pages with a million rows, against a real uvicorn process.

    uv run python bench/lists.py                  # 1,000,000 rows each, SQLite, wrk 10 s each
    uv run python bench/lists.py --db /tmp/b.db   # keep (and reuse) the filled database
    uv run python bench/lists.py --rows 1000000,10000000 --db /tmp/1m.db,/tmp/10m.db  # growth
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
from bench.common import peak_rss_mb, serve, table, timed
from bench.dashboards import BASE, prepare

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
    parser.add_argument(
        "--rows", default="1000000", help="rows of each table; several (1000000,10000000): growth"
    )
    parser.add_argument(
        "--db", help="SQLite file to fill once and reuse; one per size of --rows, commas between"
    )
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
    sizes = [int(n) for n in args.rows.split(",")]
    kept = [Path(name) for name in args.db.split(",")] if args.db else [None] * len(sizes)
    if len(kept) != len(sizes):
        parser.error("--db keeps one database per size: give as many files as --rows")
    if shutil.which("wrk") is None:
        sys.exit("bench/lists.py needs wrk: apt-get install wrk")
    throughput: list[list[object]] = []
    entries: list[list[object]] = []
    trail: list[list[object]] = []
    profiles: list[tuple[str, Any]] = []
    growth: dict[str, list[float]] = {}
    for size, db in zip(sizes, kept, strict=True):
        with tempfile.TemporaryDirectory(prefix="workshop-bench-") as folder:
            measured = measure(Path(folder), size, db, args)
        for row in measured["throughput"]:
            growth.setdefault(f"{row[0]} req/s", []).append(float(row[1].replace(",", "")))
        for name, values in measured["timed"].items():
            growth.setdefault(name, []).append(values)
        growth.setdefault("server peak RSS MB", []).append(measured["rss"])
        throughput += [[f"{size:,}", *row] for row in measured["throughput"]]
        entries += [[f"{size:,}", *row] for row in measured["entries"]]
        trail += [[f"{size:,}", *row] for row in measured["trail"]]
        profiles += measured["profiles"]
    print(
        table(
            f"List throughput, SQLite, {args.workers} worker(s), wrk -c{args.connections} "
            f"-d{args.seconds}s (goal: >= {GOAL:.0%} of /health); peak RSS of the server: "
            + ", ".join(f"{v:,.0f} MB" for v in growth["server peak RSS MB"]),
            ["rows each", "request", "req/s", "p50 ms", "p99 ms", "of /health", "goal"],
            throughput,
        )
    )
    print()
    print(
        table(
            f"Deep pages of the entries list (median of {args.runs}, one at a time)",
            ["rows each", "request", "median ms", "vs first page"],
            entries,
        )
    )
    print()
    print(
        table(
            f"Deep pages of the audit trail, newest first (median of {args.runs}, one at a time)",
            ["rows each", "request", "median ms", "vs first page"],
            trail,
        )
    )
    if len(sizes) > 1:
        print()
        print(
            table(
                f"Growth from {sizes[0]:,} to {sizes[-1]:,} rows ({sizes[-1] / sizes[0]:.0f}x)",
                ["figure", *(f"{n:,}" for n in sizes), "growth"],
                [
                    [name, *(f"{v:,.1f}" for v in values), f"{values[-1] / values[0]:.2f}x"]
                    for name, values in growth.items()
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


def measure(work: Path, size: int, db: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    """Fill (or reuse) a database of `size` rows each, serve it, and measure the lists."""
    path = (db or work / "lists.db").resolve()
    url = f"sqlite+aiosqlite:///{path}"
    prepare(url, f"sqlite:///{path}", size)
    fill_audit(f"sqlite:///{path}", size)
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
            newest = "/api/v1/workshop-entries?sort_by=id&order=desc&limit=1&include_total=false"
            last = client.get(newest).json()["items"]
            deep_id = int(last[0]["id"] * 0.9)
            first, _ = timed(client, f"{entries}&include_total=false", args.runs)
            deep, _ = timed(client, f"{entries}&include_total=false&after_id={deep_id}", args.runs)
            counted, _ = timed(client, entries, args.runs)
            skip = int(size * 0.9)
            offset, _ = timed(client, f"{entries}&include_total=false&skip={skip}", args.runs)
            trail = "/api/v1/audit?limit=100&include_total=false"
            top = client.get("/api/v1/audit?limit=1&include_total=false").json()
            newest_event = top["items"][0]["id"]
            audit_first, _ = timed(client, trail, args.runs)
            audit_deep, _ = timed(client, f"{trail}&after_id={int(newest_event * 0.1)}", args.runs)
            one_resource, _ = timed(
                client, f"{trail}&resource=workorders&after_id={newest_event // 2}", args.runs
            )
        rss = peak_rss_mb(server.process.pid)
    return {
        "throughput": rows,
        "rss": rss,
        "profiles": profiles,
        "timed": {
            "entries first page ms": first,
            "entries keyset page ms": deep,
            "entries OFFSET page ms": offset,
            "entries page with total ms": counted,
            "audit first page ms": audit_first,
            "audit deep page ms": audit_deep,
        },
        "entries": [
            ["first page (include_total=false)", f"{first:.1f}", "1.0x"],
            [f"after_id={deep_id:,} (keyset)", f"{deep:.1f}", f"{deep / first:.1f}x"],
            [f"skip={skip:,} (OFFSET)", f"{offset:.1f}", f"{offset / first:.1f}x"],
            ["first page with total (count)", f"{counted:.1f}", f"{counted / first:.1f}x"],
        ],
        "trail": [
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
    }


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
        base = min(rows, BASE)  # more are copies made in the database
        start = datetime.now(UTC) - timedelta(seconds=base)
        for first in range(0, base, 20_000):
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
                    for i in range(first, min(first + 20_000, base))
                ],
            )
        columns = [c.name for c in events.c]
        for copy in range(1, rows // base):
            shifted = [events.c.id + copy * base if c.name == "id" else c for c in events.c]
            source = sa.select(*shifted).where(events.c.id <= base)
            conn.execute(events.insert().from_select(columns, source))
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
