"""Peak memory of the API process for a small file of long text cells, through a real uvicorn.

    uv run python bench/long_cells.py                    # 5,000 rows, one 20,000-char text
    uv run python bench/long_cells.py --rows 2000 --chars 30000

The file stores its one long text once (a shared string); every row of the sheet refers to it,
so a reader hands it out once per row. Each case is a dry run (parse and validate, nothing
written) on a fresh server: with the default IMPORT_MAX_CELL_CHARS (the cells are row errors)
and with the largest (they pass, and only IMPORT_MESSAGE_MAX_BYTES bounds what the API holds).
Prints one table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import threading
import time
from pathlib import Path

import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import database, peak_rss_mb, serve, table

COLUMNS = ["Timestamp", "Seam", "Arc time [s]"]


def make_file(path: Path, rows: int, chars: int) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Daten")
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, COLUMNS)
    start, text = dt.datetime(2026, 11, 2, 6, 0), "W" * chars
    for i in range(1, rows + 1):
        sheet.write_datetime(i, 0, start + dt.timedelta(minutes=i), moment)
        sheet.write_string(i, 1, text)
        sheet.write_number(i, 2, 12.5 + i)
    book.close()


def dry_run(server: object, path: Path) -> tuple[float, float, dict[str, object]]:
    """The server's peak RSS before and after a dry run of `path`, and the report."""
    client = server.client()  # type: ignore[attr-defined]
    pid = server.process.pid  # type: ignore[attr-defined]
    machine = client.post(
        "/api/v1/machines", json={"code": "LONG", "name": "Long cells", "type": "robot"}
    ).json()
    mapping = [
        {"column": "Timestamp", "field": "ts", "type": "datetime", "required": True},
        {"column": "Seam", "field": "seam", "type": "string"},
        {"column": "Arc time [s]", "field": "arc_time_s", "type": "number"},
    ]
    template = client.post(
        "/api/v1/templates",
        json={
            "name": "long cells",
            "machine_id": machine["id"],
            "sheet": "Daten",
            "mapping": mapping,
            "timestamp_field": "ts",
        },
    ).json()
    before = peak_rss_mb(pid)
    peak, stop = [before], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], peak_rss_mb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with path.open("rb") as handle:
        response = client.post(
            f"/api/v1/templates/{template['id']}/imports",
            params={"dry_run": "true"},
            files={"file": (path.name, handle)},
        )
    stop.set()
    sampler.join()
    response.raise_for_status()
    return before, max(peak[0], peak_rss_mb(pid)), response.json()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--chars", type=int, default=20_000)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as folder:
        work = Path(folder)
        source = work / "long_cells.xlsx"
        make_file(source, args.rows, args.chars)
        for label, env in (
            ("default", {}),
            ("IMPORT_MAX_CELL_CHARS=32767", {"IMPORT_MAX_CELL_CHARS": "32767"}),
        ):
            with database("sqlite", work) as (app_url, _), serve(app_url, work, **env) as server:
                before, after, report = dry_run(server, source)
            results.append(
                [
                    label,
                    f"{args.rows:,}",
                    f"{source.stat().st_size / 1024:.0f}",
                    f"{report['rows_failed']:,}",
                    f"{before:.0f}",
                    f"{after:.0f}",
                ]
            )
    print(
        table(
            f"Dry run of {args.rows:,} rows sharing one {args.chars:,}-char text, API process",
            ["settings", "rows", "file KB", "rows failed", "peak RSS before MB", "after MB"],
            results,
        )
    )


if __name__ == "__main__":
    main()
