"""Streamed CSV and XLSX downloads, safe to open in a spreadsheet.

Text cells that a spreadsheet would run as a formula (starting with = + - @, or a tab or
carriage return) get a leading apostrophe, so an exported value can never execute.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

import anyio
import xlsxwriter
from fastapi.responses import StreamingResponse

Format = Literal["csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def cell(value: Any) -> Any:
    """A value as a spreadsheet cell: enums by value, JSON as text, dates kept, text defused."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ") + " UTC" if value.tzinfo else value
    if isinstance(value, date | int | float | bool) or value is None:
        return value
    if isinstance(value, dict | list):
        import orjson

        return neutralise(orjson.dumps(value).decode())
    return neutralise(str(value))


async def _csv_chunks(
    header: Sequence[str], rows: AsyncIterator[Sequence[Any]]
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    async for row in rows:
        writer.writerow(["" if (v := cell(value)) is None else v for value in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


class XlsxWriter:
    """A constant-memory workbook filled row by row (xlsxwriter keeps one row in memory)."""

    def __init__(self, path: str, header: Sequence[str]) -> None:
        self.book = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "remove_timezone": True,
            },
        )
        self.sheet = self.book.add_worksheet("export")
        self.dates = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.sheet.write_row(0, 0, list(header), self.book.add_format({"bold": True}))
        self.row = 0

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self.row += 1
            for column, raw in enumerate(values):
                value = cell(raw)
                if isinstance(value, date) and not isinstance(value, datetime):
                    moment = datetime.combine(value, datetime.min.time())
                    self.sheet.write_datetime(self.row, column, moment, self.dates)
                elif value is not None:
                    self.sheet.write(self.row, column, value)

    def close(self) -> None:
        self.book.close()


async def _file_chunks(path: str) -> AsyncIterator[bytes]:
    try:
        async with await anyio.open_file(path, "rb") as handle:
            while chunk := await handle.read(256 * 1024):
                yield chunk
    finally:
        os.unlink(path)


async def xlsx_file(header: Sequence[str], rows: AsyncIterator[Sequence[Any]]) -> str:
    """Write the rows to a temp .xlsx in batches (in a thread) and return its path."""
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="workshop-export-")
    os.close(fd)
    try:
        writer = await anyio.to_thread.run_sync(XlsxWriter, path, header)
        batch: list[Sequence[Any]] = []
        async for row in rows:
            batch.append(row)
            if len(batch) >= 2000:
                await anyio.to_thread.run_sync(writer.write, batch)
                batch = []
        await anyio.to_thread.run_sync(writer.write, batch)
        await anyio.to_thread.run_sync(writer.close)
    except BaseException:
        os.unlink(path)
        raise
    return path


async def stream_select(db: Any, stmt: Any) -> AsyncIterator[Sequence[Any]]:
    """Rows of `stmt` from a server-side cursor, in a session of its own (a streamed body is
    sent after the route has returned and its session is gone)."""
    async with db.session(write=False) as session:
        result = await session.stream(stmt.execution_options(yield_per=1000))
        async for row in result:
            yield tuple(row)


async def download(
    fmt: Format, filename: str, header: Sequence[str], rows: AsyncIterator[Sequence[Any]]
) -> StreamingResponse:
    disposition = {"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
    if fmt == "csv":
        return StreamingResponse(
            _csv_chunks(header, rows), media_type="text/csv; charset=utf-8", headers=disposition
        )
    path = await xlsx_file(header, rows)
    return StreamingResponse(_file_chunks(path), media_type=XLSX, headers=disposition)
