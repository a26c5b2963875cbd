"""Dashboard latency with a million rows each of work orders, inspections and entries.

    uv run python bench/dashboards.py                 # 1,000,000 rows, SQLite
    uv run python bench/dashboards.py --rows 1000000,10000000   # and how each figure grows
    uv run python bench/dashboards.py --rows 1000000 --backends mariadb,postgresql
    uv run python bench/dashboards.py --db /tmp/bench.db   # keep (and reuse) the SQLite file

Rows are written straight into a fresh database (bulk inserts, no ANALYZE: what a database
filled over years by the service looks like to the planner, unless the service itself runs
one), the entries as judged weld runs (verdict, welder, WPS, failed parameters) for the
conformance dashboard; then a real uvicorn process answers each dashboard endpoint `--runs`
times. The table shows the median and the worst, and the server's peak RSS after the
endpoint's runs; with several `--rows`, each figure's growth from the first size to the last.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import WORKSHOP, database, peak_rss_mb, serve, table, timed

ENDPOINTS = [
    "stats",
    "workorders",
    "equipment",
    "inspections",
    "inventory/alerts",
    "production?bucket=day&field=arc_time_s&agg=sum",
    "conformance?group_by=wps",
    "conformance?group_by=welder",
]
GOAL_MS = 200
BASE = 1_000_000  # rows built in Python; more are copies made in the database
VERDICTS = ["pass"] * 17 + ["fail", "fail", "not_checkable"]


def fill(sync_url: str, rows: int) -> None:
    from app.conformance import totals as conformance_totals
    from app.core import migrations
    from app.entries import totals
    from app.entries.tally import Tally
    from app.inspections import totals as inspection_totals
    from app.models import Base, Joint, WpsStandard, WpsStatus

    engine = sa.create_engine(sync_url)
    t = Base.metadata.tables  # the models' column types (JSON on MariaDB, UTC timestamps)
    rng = random.Random(7)
    now = datetime.now(UTC)
    stamp = {"created_at": now, "updated_at": now, "version": 1}
    with engine.begin() as conn:
        conn.execute(
            t["machines"].insert(),
            [
                {
                    "code": f"M{i}",
                    "name": f"M{i}",
                    "type": "robot",
                    "status": "active",
                    "metadata": {},
                    **stamp,
                }
                for i in range(20)
            ],
        )
        conn.execute(
            t["employees"].insert(),
            [
                {
                    "employee_number": f"E{i}",
                    "first_name": "W",
                    "last_name": str(i),
                    "role": "welder",
                    "active": True,
                    **stamp,
                }
                for i in range(50)
            ],
        )
        conn.execute(
            t["wps"].insert(),
            [
                {
                    "number": f"WPS-{i}",
                    "revision": 0,
                    "status": WpsStatus.approved,
                    "standard": WpsStandard.iso_15614_1,
                    "process": "135",
                    "joint": Joint.BW,
                    **stamp,
                }
                for i in range(10)
            ],
        )
        conn.execute(
            t["templates"].insert(),
            [
                {
                    "name": "bench",
                    "machine_id": 1,
                    "header_row": 1,
                    "mapping": [],
                    "timezone": "UTC",
                    "active": True,
                    **stamp,
                }
            ],
        )
    statuses = ["open", "in_progress", "on_hold", "completed", "cancelled"]
    results = ["Pass"] * 8 + ["Fail", "Rework"]
    batch = 20_000
    tallies: dict[tuple[int, int], Tally] = {}
    quality: inspection_totals.Totals = {}
    judged: conformance_totals.Totals = {}
    with engine.begin() as conn:
        for start in range(0, rows, batch):
            n = range(start, min(start + batch, rows))
            conn.execute(
                t["work_orders"].insert(),
                [
                    {
                        "order_id": f"WO-{i}",
                        "client": f"Client {i % 300}",
                        "assigned_welder_id": 1 + i % 50,
                        "machine_id": 1 + i % 20,
                        "quantity": 1,
                        "status": statuses[i % 5],
                        "priority": "normal",
                        "due_date": date.today() - timedelta(days=rng.randint(-60, 60)),
                        "completed_at": now - timedelta(days=rng.randint(0, 365))
                        if i % 5 == 3
                        else None,
                        **stamp,
                        "created_at": now - timedelta(days=rng.randint(0, 400)),
                    }
                    for i in n
                ],
            )
            inspections: list[dict[str, Any]] = [
                {
                    "work_order_id": 1 + i,
                    "machine_id": 1 + i % 20,
                    "welder_id": 1 + i % 50,
                    "method": "VT" if i % 3 else "UT",
                    "result": results[i % 10],
                    "weld_reference": f"W{i % 4}",
                    "defects": [{"code": 2011, "count": 1}] if i % 10 == 8 else [],
                    "inspected_at": now - timedelta(minutes=rng.randint(0, 500_000)),
                    "first_of_weld": True,
                    "weld_repaired": results[i % 10] != "Pass",
                    **stamp,
                }
                for i in n
            ]
            conn.execute(t["inspections"].insert(), inspections)
            # the day totals that inspection writes keep, counted by the migration's code
            facts = (
                (
                    r["inspected_at"],
                    r["welder_id"],
                    r["machine_id"],
                    r["method"],
                    f"Client {(r['work_order_id'] - 1) % 300}",
                    r["result"],
                    r["first_of_weld"],
                    r["weld_repaired"],
                    r["defects"],
                )
                for r in inspections
            )
            inspection_totals.count(facts, into=quality)
            entries: list[dict[str, Any]] = [
                {
                    "template_id": 1,
                    "machine_id": 1 + i % 20,
                    "row_number": i,
                    "recorded_at": now - timedelta(minutes=rng.randint(0, 500_000)),
                    "data": {"arc_time_s": i % 97},
                    "created_at": now,
                    "welder_id": 1 + i % 50,
                    "wps_id": 1 + i % 10,
                    "pass_seq": 1,
                    "process": "135",
                    "verdict": VERDICTS[i % 20],
                    "heat_input": 0.5 + (i % 50) / 100,
                    "failures": (1 << (i % 5)) if VERDICTS[i % 20] == "fail" else 0,
                }
                for i in n
            ]
            conn.execute(t["workshop_entries"].insert(), entries)
            # the day totals an import keeps, counted by the migration's code
            totals.tally_entries(
                ((e["template_id"], e["machine_id"], e["recorded_at"], e["data"]) for e in entries),
                into=tallies,
            )
            # the conformance day totals an import keeps, counted by the migration's code
            # (runs without a weld: no work order)
            conformance_totals.count(
                (
                    (
                        e["recorded_at"],
                        e["machine_id"],
                        e["welder_id"],
                        e["wps_id"],
                        None,
                        e["verdict"],
                        e["failures"],
                    )
                    for e in entries
                ),
                into=judged,
            )
        conn.execute(t["inspection_day_totals"].insert(), inspection_totals.values(quality))
        conn.execute(t["conformance_day_totals"].insert(), conformance_totals.values(judged))
        for (template_id, machine_id), tally in tallies.items():
            conn.execute(
                t["entry_day_totals"].insert(), totals.values(template_id, machine_id, tally.rows())
            )
    fill_work_order_totals(engine)
    engine.dispose()
    del migrations


def fill_work_order_totals(engine: sa.Engine) -> None:
    """The work-order day totals that writes keep (ADR 0041), counted from the orders just
    inserted by the migration's code (app.work_orders.totals.count)."""
    from app.work_orders import totals as order_totals

    counted: order_totals.Totals = {}
    with engine.begin() as conn:
        stored = conn.execute(order_totals.facts().execution_options(yield_per=20_000))
        for batch in stored.partitions():
            order_totals.count(batch, conn.dialect.name, into=counted)
        if counted:
            conn.execute(order_totals.T.insert(), order_totals.values(counted))


def prepare(app_url: str, sync_url: str, rows: int) -> float:
    """Migrate the database and fill it unless it holds work orders already (a kept `--db`);
    the seconds the filling took."""
    subprocess.run(
        [WORKSHOP, "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": app_url},
        check=True,
        capture_output=True,
    )
    engine = sa.create_engine(sync_url)
    with engine.connect() as conn:
        filled = conn.scalar(sa.text("SELECT count(*) FROM work_orders"))
    engine.dispose()
    started = time.perf_counter()
    if not filled:
        base = min(rows, BASE)
        fill(sync_url, base)
        if rows > base:
            replicate(sync_url, base, rows // base)
    return time.perf_counter() - started


def summed() -> dict[str, tuple[str, ...]]:
    """The day-total tables and their counts and sums (what adds up over rows)."""
    from app.conformance import totals as conformance_totals
    from app.inspections import totals as inspection_totals
    from app.work_orders import totals as order_totals

    return {
        "entry_day_totals": ("count", "total"),
        "inspection_day_totals": tuple(inspection_totals.FIGURES),
        "work_order_day_totals": tuple(order_totals.FIGURES),
        "conformance_day_totals": tuple(conformance_totals.FIGURES),
    }


def replicate(sync_url: str, base: int, copies: int) -> None:
    """Rows past `base` as copies of the first `base` work orders, inspections and entries
    (new ids and order numbers, the same days and figures), by INSERT ... SELECT in the
    database: ten million rows are written in minutes where building them in Python takes
    most of an hour."""
    from app.models import Base

    t = Base.metadata.tables
    engine = sa.create_engine(sync_url)
    shifted = {
        "work_orders": {"id", "order_id"},
        "inspections": {"id", "work_order_id"},
        "workshop_entries": {"id", "row_number"},
    }
    for copy in range(1, copies):
        offset = copy * base
        for name, changed in shifted.items():
            # A transaction per copy of a table: SQLite's WAL is checkpointed between them (one
            # transaction of ten million rows grew it to gigabytes, each page read slower).
            with engine.begin() as conn:
                table = t[name]
                columns = [
                    (c + offset if c.name != "order_id" else c + f"-{copy}")
                    if c.name in changed
                    else c
                    for c in table.c
                ]
                source = sa.select(*columns).where(table.c.id <= base)
                conn.execute(table.insert().from_select([c.name for c in table.c], source))
    # The copies fall on the same days and keys as their originals, so every day total is
    # `copies` times the base's: each count and sum scaled (least and greatest stay).
    # `workshop totals rebuild` gives the same rows, reading every row in Python.
    with engine.begin() as conn:
        for name, sums in summed().items():
            table = t[name]
            conn.execute(table.update().values({c: table.c[c] * copies for c in sums}))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", default="1000000", help="rows of each table; several (1000000,10000000): growth"
    )
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", type=Path, help="SQLite file to fill once and reuse")
    args = parser.parse_args()
    sizes = [int(n) for n in args.rows.split(",")]
    if args.db and len(sizes) > 1:
        parser.error("--db keeps one database: give one --rows with it")
    results: list[list[object]] = []
    medians: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as folder:
        work = Path(folder)
        for backend in args.backends.split(","):
            for rows in sizes:
                with database(backend, work, args.db) as (app_url, sync_url):
                    filled = prepare(app_url, sync_url, rows)
                    with (
                        serve(
                            app_url, work, RATE_LIMIT_ENABLED="false", SCHEDULER_ENABLED="false"
                        ) as server,
                        server.client() as client,
                    ):
                        for path in ENDPOINTS:
                            median, worst = timed(client, f"/api/v1/dashboard/{path}", args.runs)
                            name = path.split("&")[0].replace("?bucket=day", "")
                            medians.setdefault((backend, name), []).append(median)
                            results.append(
                                [
                                    backend,
                                    f"{rows:,}",
                                    name,
                                    f"{median:,.0f}",
                                    f"{worst:,.0f}",
                                    "met" if median < GOAL_MS else "missed",
                                    f"{peak_rss_mb(server.process.pid):,.0f}",
                                    f"{filled:.0f}",
                                ]
                            )
                            print(*results[-1], sep="\t", file=sys.stderr, flush=True)
                if args.db is None and backend == "sqlite":
                    for leftover in work.glob("bench-*.db*"):
                        leftover.unlink()
    print(
        table(
            f"Dashboards over {args.rows} work orders, inspections and entries each, freshly "
            f"filled, no ANALYZE (median of {args.runs} runs, real uvicorn, one worker; "
            f"goal < {GOAL_MS} ms)",
            ["database", "rows each", "endpoint", "median ms", "worst ms", "goal", "peak RSS MB",
             "fill s"],
            results,
        )
    )  # fmt: skip
    if len(sizes) > 1:
        growth: list[list[object]] = [
            [backend, name, *(f"{m:,.0f}" for m in times), f"{times[-1] / times[0]:.1f}x"]
            for (backend, name), times in medians.items()
        ]
        print()
        print(
            table(
                f"Growth of the medians from {sizes[0]:,} to {sizes[-1]:,} rows "
                f"({sizes[-1] / sizes[0]:.0f}x the rows)",
                ["database", "endpoint", *(f"{n:,} ms" for n in sizes), "growth"],
                growth,
            )
        )


if __name__ == "__main__":
    main()
