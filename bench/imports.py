"""Import throughput and memory, end to end through the HTTP API of a real uvicorn process.

    uv run python bench/imports.py                       # 100k rows, SQLite and MariaDB
    uv run python bench/imports.py --rows 20000 --backends sqlite
    uv run python bench/imports.py --memory-rows 1000000 # + the 1M-row peak-memory run

Baseline: `pandas.read_excel` + `DataFrame.to_sql` of the same file into the same database, in
the same run. Prints one table; nothing is asserted (timings belong here, not in tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import database, peak_rss_mb, serve, table

COLUMNS = [
    "Timestamp",
    "Job",
    "Seam",
    "Arc time [s]",
    "Current [A]",
    "Voltage [V]",
    "Wire [m]",
    "Gas [l]",
    "Wire speed [m/min]",
    "Heat input [kJ/mm]",
    "Operator",
    "OK",
]
TYPES = [
    "datetime",
    "integer",
    "string",
    "number",
    "number",
    "number",
    "number",
    "number",
    "number",
    "number",
    "string",
    "boolean",
]
FIELDS = [
    "ts",
    "job",
    "seam",
    "arc_time_s",
    "current_a",
    "voltage_v",
    "wire_m",
    "gas_l",
    "wire_speed",
    "heat_input",
    "operator",
    "ok",
]


def make_file(path: Path, rows: int) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Daten")
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(0, 0, COLUMNS)
    start = dt.datetime(2026, 11, 1, 6, 0)
    for i in range(1, rows + 1):
        sheet.write_datetime(i, 0, start + dt.timedelta(seconds=7 * i), moment)
        sheet.write_row(
            i,
            1,
            [
                100 + i % 9,
                f"S{i % 12}",
                5 + (i % 97) / 10,
                180 + i % 40,
                22 + (i % 30) / 10,
                (i % 50) / 7,
                (i % 40) / 3,
                8 + (i % 20) / 10,
                0.8 + (i % 9) / 10,
                f"W{i % 6}",
                i % 13 != 0,
            ],
        )
    book.close()


def template(client: httpx.Client) -> int:
    machine = client.post(
        "/api/v1/machines", json={"code": "BENCH", "name": "Bench cell", "type": "robot"}
    ).json()
    mapping = [
        {"column": c, "field": f, "type": t, "required": f == "ts"}
        for c, f, t in zip(COLUMNS, FIELDS, TYPES, strict=True)
    ]
    created = client.post(
        "/api/v1/templates",
        json={
            "name": "bench",
            "machine_id": machine["id"],
            "sheet": "Daten",
            "mapping": mapping,
            "timestamp_field": "ts",
            "timezone": "Europe/Ljubljana",
        },
    )
    created.raise_for_status()
    return int(created.json()["id"])


def api_import(server: object, path: Path, rows: int) -> tuple[float, float]:
    """Seconds from the first byte sent to the import completed, and the server's peak RSS."""
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], peak_rss_mb(server.process.pid))  # type: ignore[attr-defined]
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    with server.client() as client:  # type: ignore[attr-defined]
        template_id = template(client)
        sampler.start()
        started = time.perf_counter()
        with path.open("rb") as handle:
            response = client.post(
                f"/api/v1/templates/{template_id}/imports", files={"file": (path.name, handle)}
            )
        if response.status_code == 202:
            location = response.headers["location"]
            while (record := client.get(location).json())["status"] == "running":
                time.sleep(0.1)
        else:
            response.raise_for_status()
            record = response.json()
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
    assert record["status"] == "completed", record
    assert record["rows_imported"] == rows, record
    return elapsed, max(peak[0], peak_rss_mb(server.process.pid))  # type: ignore[attr-defined]


def pandas_import(path: Path, sync_url: str) -> float:
    import pandas
    import sqlalchemy

    engine = sqlalchemy.create_engine(sync_url)
    started = time.perf_counter()
    frame = pandas.read_excel(path, sheet_name="Daten", engine="openpyxl")
    frame.to_sql("pandas_bench", engine, if_exists="replace", index=False, chunksize=5000)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,mariadb")
    parser.add_argument("--memory-rows", type=int, default=0, help="also import a file this big")
    args = parser.parse_args()
    env = {
        "MAX_FILE_SIZE": str(1024**3),
        "IMPORT_PARSER_MAX_MEMORY": str(4 * 1024**3),
        "IMPORT_SYNC_MAX_ROWS": str(10**9),
        "IMPORT_SYNC_MAX_BYTES": str(1024**3),
    }
    results = []
    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as folder:
        work = Path(folder)
        source = work / f"export_{args.rows}.xlsx"
        make_file(source, args.rows)
        size_mb = source.stat().st_size / 1024**2
        for backend in args.backends.split(","):
            with database(backend, work) as (app_url, sync_url):
                baseline = pandas_import(source, sync_url)
                with serve(app_url, work, **env) as server:
                    elapsed, peak = api_import(server, source, args.rows)
            results.append(
                [
                    backend,
                    f"{args.rows:,}",
                    f"{size_mb:.1f}",
                    f"{args.rows / baseline:,.0f}",
                    f"{args.rows / elapsed:,.0f}",
                    f"{baseline / elapsed:.1f}x",
                    f"{peak:.0f}",
                ]
            )
        if args.memory_rows:
            big = work / f"export_{args.memory_rows}.xlsx"
            make_file(big, args.memory_rows)
            with database("sqlite", work) as (app_url, _), serve(app_url, work, **env) as server:
                elapsed, peak = api_import(server, big, args.memory_rows)
            results.append(
                [
                    "sqlite (memory run)",
                    f"{args.memory_rows:,}",
                    f"{big.stat().st_size / 1024**2:.1f}",
                    "-",
                    f"{args.memory_rows / elapsed:,.0f}",
                    "-",
                    f"{peak:.0f}",
                ]
            )
    print(
        table(
            f"Excel import, {len(COLUMNS)} columns, HTTP API end to end (upload, parse, map, "
            "validate, insert, commit)",
            [
                "database",
                "rows",
                "file MB",
                "pandas rows/s",
                "API rows/s",
                "API / pandas",
                "API peak RSS MB",
            ],
            results,
        )
    )


if __name__ == "__main__":
    main()
