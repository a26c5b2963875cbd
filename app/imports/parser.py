"""The parser process: `python -m app.imports.parser`, one per import (app/imports/parsing.py
starts it).

Reads a job on stdin, caps its own memory and CPU time, opens the workbook with
python-calamine, maps and types every row by the template, and writes the messages of
app/imports/protocol.py on stdout: `Start`, then `Chunk`s of entries and row errors as they are
ready, then the day `Totals`, then `End`; or one `Failure` for a problem with the whole file.
A hostile or huge file can exhaust this process, never the API: the API only reads these lines
and inserts, and no line is longer than IMPORT_MESSAGE_MAX_BYTES (a chunk is cut by its
encoded size as well as by IMPORT_CHUNK_ROWS; a text cell past IMPORT_MAX_CELL_CHARS is a row
error; a row too large for a message on its own is one too).
"""

from __future__ import annotations

import gc
import resource
import sys
from collections.abc import Callable
from typing import Any

from app.core.clock import DayOf
from app.imports.protocol import (
    ENVELOPE_BYTES,
    GROUP_BYTES,
    Chunk,
    End,
    Failure,
    Message,
    ParserJob,
    Rows,
    Start,
    Totals,
    encode,
    size,
)


def emit(message: Message) -> None:
    sys.stdout.buffer.write(encode(message))
    sys.stdout.buffer.flush()


def fail(code: str, message: str) -> None:
    emit(Failure(code, message))


def limit_resources(max_memory: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


class Batch:
    """Items for the next message, within its byte budget (IMPORT_MESSAGE_MAX_BYTES): a message
    is sent before an item that would take it past the budget."""

    def __init__(self, message_max_bytes: int, send: Callable[[], None]) -> None:
        self.budget = message_max_bytes - ENVELOPE_BYTES
        self.used = 0
        self.send = send

    def add(self, needed: int) -> None:
        """Count an item of `needed` bytes in, sending what waits first if it would not fit."""
        if self.used + needed > self.budget and self.used:
            self.flush()
        self.used += needed

    def flush(self) -> None:
        self.send()
        self.used = 0

    def fits(self, needed: int) -> bool:
        """Whether an item of `needed` bytes fits a message at all."""
        return needed <= self.budget


def run(job: ParserJob) -> None:
    from python_calamine import CalamineWorkbook

    from app.conformance.runs import Context, Judge, columns_by_field, unresolved_errors
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
    mapper = RowMapper(
        job.mapping, job.timestamp_field, job.timezone, job.max_cell_chars, job.min_arc_time_s
    )
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
    day_of = DayOf(job.workshop_timezone)
    utc = day_of.utc  # UTC text's day is its first ten characters: no call per row
    fields = [spec["field"] for spec in job.mapping]
    judge = Judge(Context.decode(job.runs), fields) if job.runs is not None else None
    columns = columns_by_field(job.mapping)
    # The chunk's runs by (day, welder, WPS, weld, verdict, failures), and those unresolved.
    groups: dict[tuple[Any, ...], int] = {}
    unresolved_runs = 0

    def send_chunk() -> None:
        nonlocal entries, errors, groups, unresolved_runs
        runs = [[*group, n] for group, n in groups.items()]
        emit(Chunk(entries, errors, failed, runs, unresolved_runs))
        entries, errors, groups, unresolved_runs = [], [], {}, 0

    batch = Batch(job.message_max_bytes, send_chunk)
    for cells in rows:
        row_number += 1
        mapped = mapper.map_row(row_number, cells)
        if mapped is None:
            continue
        total += 1
        reported: list[dict[str, Any]] = []
        if not isinstance(mapped, list):
            recorded_at, data = mapped
            run: list[Any] | None = None
            unresolved: list[tuple[str, str]] = []
            if judge is not None:
                run, unresolved = judge.values(data)  # by position: half the bytes of a dict
                if unresolved:
                    reported = unresolved_errors(row_number, unresolved, columns)
            entry = [row_number, recorded_at, data, run]
            needed = size(entry)
            day = (recorded_at[:10] if utc else day_of(recorded_at)) if recorded_at else None
            if batch.fits(needed + (GROUP_BYTES if run is not None else 0)):
                if run is None:
                    batch.add(needed)
                else:
                    group = (day, run[0], run[1], run[2], run[5], run[7])
                    counted = 0 if group in groups else GROUP_BYTES
                    batch.add(needed + counted)  # may send the chunk, and its groups with it
                    if group not in groups:
                        batch.used += GROUP_BYTES - counted
                        groups[group] = 0
                    groups[group] += 1
                    unresolved_runs += bool(unresolved)
                entries.append(entry)
                if day:
                    tally.add(day, data)
            else:
                mapped = [too_large(mapper, row_number, data, job.message_max_bytes)]
        if isinstance(mapped, list):
            failed += 1
            reported = mapped
        if reported:
            kept = reported[: max(max_errors - kept_errors, 0)]
            for error in kept:
                batch.add(size(error))
                errors.append(error)
            kept_errors += len(kept)
        if len(entries) >= chunk_rows:
            batch.flush()
    batch.flush()

    day_totals: list[Any] = []

    def send_totals() -> None:
        nonlocal day_totals
        emit(Totals(day_totals))
        day_totals = []

    batch = Batch(job.message_max_bytes, send_totals)
    for day_total in tally.rows():
        batch.add(size(day_total))
        day_totals.append(day_total)
    if day_totals:
        batch.flush()
    emit(End(total, failed))


def too_large(mapper: Any, row: int, data: dict[str, Any], limit: int) -> dict[str, Any]:
    """The error of a good row too large for one message, named by its largest value."""
    largest = max(data, key=lambda name: size(data[name]))
    column = next((spec["column"] for _, spec, _ in mapper.columns if spec["field"] == largest), "")
    message = f"the row is larger than one message may be (IMPORT_MESSAGE_MAX_BYTES: {limit})"
    return {"row": row, "column": column, "field": largest, "message": message}


def _plain(value: Any, max_chars: int) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and max_chars and len(value) > max_chars:
        return value[:max_chars]  # the errors workbook shows the start of a text too long
    return value


def _fitted(cells: list[Any], budget: int) -> list[Any]:
    """The leading cells of a row that fit `budget` bytes (a row too large is cut short)."""
    kept, used = [], 0
    for cell in cells:
        used += size(cell)
        if used > budget:
            break
        kept.append(cell)
    return kept


def extract(job: ParserJob) -> None:
    """The original cells of some rows (for the errors workbook)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(job.path)
    sheet = book.get_sheet_by_name(job.sheet or book.sheet_names[0])
    wanted = set(job.rows)
    header_row, max_chars = job.header_row, job.max_cell_chars
    row_number = sheet.start[0] if sheet.start else 0
    # The headers travel in the first message, beside rows: half the budget at most.
    half = (job.message_max_bytes - ENVELOPE_BYTES) // 2
    headers: list[Any] = []
    found: list[Any] = []
    sent_headers = False
    count = 0

    def send_rows() -> None:
        nonlocal found, sent_headers
        emit(Rows(headers if not sent_headers else [], found))
        found, sent_headers = [], True

    batch = Batch(job.message_max_bytes, send_rows)
    for cells in sheet.iter_rows():
        row_number += 1
        if row_number == header_row:
            headers = _fitted([_plain(c, max_chars) for c in cells], half)
            batch.add(size(headers))
        elif row_number in wanted:
            row = [row_number, _fitted([_plain(c, max_chars) for c in cells], half)]
            batch.add(size(row))
            found.append(row)
            count += 1
    batch.flush()
    emit(End(count, 0))


def main() -> None:
    job = ParserJob.decode(sys.stdin.buffer.read())
    limit_resources(job.max_memory, job.cpu_seconds)
    # Rows are made and dropped by the hundred thousand and hold no cycles: reference counting
    # frees them, and a collection every 700 new objects would only walk them (ADR 0028).
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        extract(job) if job.mode == "rows" else run(job)
    except MemoryError:
        fail("FILE_TOO_LARGE", "the file needs more memory than IMPORT_PARSER_MAX_MEMORY allows")


if __name__ == "__main__":
    main()
