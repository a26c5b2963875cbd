"""The parser process: `python -m app.imports.parser`, one per import (app/imports/parsing.py
starts it).

Reads a job on stdin, caps its own memory and CPU time, opens the workbook with
python-calamine, maps and types every row by the template, and writes the messages of
app/imports/protocol.py on stdout: `Start`, then `Chunk`s of entries and row errors as they are
ready, then `End`; or one `Failure` for a problem with the whole file. A hostile or huge file
can exhaust this process, never the API: the API only reads these lines and inserts.
"""

from __future__ import annotations

import resource
import sys
from typing import Any

from app.imports.protocol import Chunk, End, Failure, Message, ParserJob, Rows, Start, encode


def emit(message: Message) -> None:
    sys.stdout.buffer.write(encode(message))
    sys.stdout.buffer.flush()


def fail(code: str, message: str) -> None:
    emit(Failure(code, message))


def limit_resources(max_memory: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def run(job: ParserJob) -> None:
    from python_calamine import CalamineWorkbook

    from app.entries.tally import Tally
    from app.imports.mapping import RowMapper

    try:
        book = CalamineWorkbook.from_path(job.path)
        names = book.sheet_names
        sheet_name = job.sheet or (names[0] if names else None)
        if sheet_name not in names:
            fail("SHEET_NOT_FOUND", f"the workbook has no sheet {sheet_name!r} (it has {names})")
            return
        sheet = book.get_sheet_by_name(sheet_name)
        rows = sheet.iter_rows()
    except Exception as exc:
        fail("CORRUPT_FILE", f"the workbook cannot be read: {exc}")
        return

    first_row = sheet.start[0] + 1 if sheet.start else 1  # Excel's 1-based number of rows[0]
    header_row = job.header_row
    mapper = RowMapper(job.mapping, job.timestamp_field, job.timezone)
    row_number = first_row - 1
    headers: list[Any] | None = None
    for cells in rows:
        row_number += 1
        if row_number == header_row:
            headers = cells
            break
    if headers is None:
        fail("NO_HEADER_ROW", f"the sheet has no row {header_row} to read the headers from")
        return
    problems = mapper.bind(headers)
    if problems:
        fail("HEADER_MISMATCH", "; ".join(problems))
        return

    total_height = (sheet.start[0] if sheet.start else 0) + sheet.height
    emit(Start(sheet=sheet_name, rows=max(total_height - header_row, 0)))
    chunk_rows, max_errors = job.chunk_rows, job.max_errors
    entries: list[Any] = []
    errors: list[dict[str, Any]] = []
    total = failed = kept_errors = 0
    tally = Tally()  # day totals of the good rows, for the production dashboard
    for cells in rows:
        row_number += 1
        mapped = mapper.map_row(row_number, cells)
        if mapped is None:
            continue
        total += 1
        if isinstance(mapped, list):
            failed += 1
            if kept_errors < max_errors:
                errors.extend(mapped[: max_errors - kept_errors])
                kept_errors += min(len(mapped), max_errors - kept_errors)
        else:
            recorded_at, data = mapped
            entries.append([row_number, recorded_at, data])
            if recorded_at:
                tally.add(recorded_at[:10], data)  # ISO 8601 in UTC: its day comes first
        if len(entries) >= chunk_rows:
            emit(Chunk(entries, errors, failed))
            entries, errors = [], []
    emit(Chunk(entries, errors, failed))
    emit(End(total, failed, tally.rows()))


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def extract(job: ParserJob) -> None:
    """The original cells of some rows (for the errors workbook)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(job.path)
    sheet = book.get_sheet_by_name(job.sheet or book.sheet_names[0])
    wanted = set(job.rows)
    header_row = job.header_row
    row_number = sheet.start[0] if sheet.start else 0
    headers: list[Any] = []
    found = []
    for cells in sheet.iter_rows():
        row_number += 1
        if row_number == header_row:
            headers = [_plain(c) for c in cells]
        elif row_number in wanted:
            found.append([row_number, [_plain(c) for c in cells]])
    emit(Rows(headers, found))
    emit(End(len(found), 0))


def main() -> None:
    job = ParserJob.decode(sys.stdin.buffer.read())
    limit_resources(job.max_memory, job.cpu_seconds)
    try:
        extract(job) if job.mode == "rows" else run(job)
    except MemoryError:
        fail("FILE_TOO_LARGE", "the file needs more memory than IMPORT_PARSER_MAX_MEMORY allows")


if __name__ == "__main__":
    main()
