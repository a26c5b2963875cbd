"""Spreadsheets made by the tests: good ones in both formats, and hostile ones."""

from __future__ import annotations

import datetime as dt
import functools
import io
import zipfile
from collections.abc import Sequence
from typing import Any

import xlsxwriter
import xlwt

HEADER = ["Timestamp", "Job", "Seam", "Arc time [s]", "Wire [m]", "OK"]
MAPPING = [
    {"column": "Timestamp", "field": "ts", "type": "datetime", "required": True},
    {"column": "Job", "field": "job", "type": "integer"},
    {"column": "Seam", "field": "seam", "type": "string"},
    {"column": "Arc time [s]", "field": "arc_time_s", "type": "number", "required": True},
    {"column": "wire [M]", "field": "wire_m", "type": "number", "default": 0},
    {"column": "OK", "field": "ok", "type": "boolean"},
]


def rows(n: int, start: dt.datetime = dt.datetime(2026, 11, 2, 6, 0)) -> list[list[Any]]:
    return [
        [start + dt.timedelta(minutes=i), 100 + i % 7, f"S{i % 4}", 12.5 + i, 1.25 * i, i % 5 != 0]
        for i in range(n)
    ]


def xlsx(
    data: Sequence[Sequence[Any]], header: Sequence[Any] = HEADER, sheet: str = "Daten"
) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet(sheet)
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    ws.write_row(0, 0, list(header))
    for r, row in enumerate(data, start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write_datetime(r, c, value, moment)
            elif isinstance(value, str):
                ws.write_string(r, c, value)  # never turned into a formula
            elif value is not None:
                ws.write(r, c, value)
    book.close()
    return out.getvalue()


def xls(
    data: Sequence[Sequence[Any]], header: Sequence[Any] = HEADER, sheet: str = "Daten"
) -> bytes:
    book = xlwt.Workbook()
    ws = book.add_sheet(sheet)
    moment = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM")
    for c, value in enumerate(header):
        ws.write(0, c, value)
    for r, row in enumerate(data, start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write(r, c, value, moment)
            elif value is not None:
                ws.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_part(
    workbook: bytes, name: str, content: bytes, compress: int = zipfile.ZIP_DEFLATED
) -> bytes:
    """The same xlsx with one part replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compress) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item, source.read(item.filename))
        target.writestr(name, content)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A valid-looking workbook whose sheet unpacks to ~1.1 GB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        target.writestr("[Content_Types].xml", b"<Types/>")
        target.writestr("xl/workbook.xml", b"<workbook/>")
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b"0" * (1024 * 1024)
            for _ in range(1100):
                sheet.write(block)
    return out.getvalue()


XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'


def with_dtd(kind: str, before: bytes = b"") -> bytes:
    """A workbook whose shared strings declare a DTD, after `before` (whitespace, comments)."""
    if kind == "billion_laughs":
        dtd = (
            b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        )
        cell = b"&lol3;"
    else:  # XXE
        dtd = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        cell = b"&xxe;"
    strings = (
        XML_DECLARATION
        + before
        + dtd
        + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        b'uniqueCount="1"><si><t>' + cell + b"</t></si></sst>"
    )
    return replace_part(xlsx(rows(2)), "xl/sharedStrings.xml", strings)


def with_macros(kind: str) -> bytes:
    """A workbook that carries code: a VBA project, an Excel 4 macro sheet, or the content type
    of a macro-enabled workbook (.xlsm)."""
    good = xlsx(rows(2))
    if kind == "vba":
        return replace_part(good, "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 508)
    if kind == "macro sheet":
        return replace_part(good, "xl/macrosheets/sheet1.xml", b"<xm:macrosheet/>")
    types = zipfile.ZipFile(io.BytesIO(good)).read("[Content_Types].xml")
    plain = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    assert plain in types
    macro_enabled = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    return replace_part(good, "[Content_Types].xml", types.replace(plain, macro_enabled))


def long_text_xlsx(n: int, chars: int) -> bytes:
    """A small file that grows when read: one long text in every row's Seam, which the workbook
    stores once (a shared string) and a reader hands out once per row."""
    data = rows(n)
    for row in data:
        row[2] = "W" * chars
    return xlsx(data)


@functools.cache
def cached_xlsx(n: int) -> bytes:
    return xlsx(rows(n))
