"""The file checks on their own (app/imports/sniff.py): what they read of a workbook."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.imports.sniff import Limits, Rejected, check_xlsx
from tests.imports import files

LIMITS = Limits(max_uncompressed=100 * 1024 * 1024, max_ratio=300.0, max_entries=1000)
XXE = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'


def refused(tmp_path: Path, workbook: bytes) -> str:
    path = tmp_path / "book.xlsx"
    path.write_bytes(workbook)
    with pytest.raises(Rejected) as caught:
        check_xlsx(path, LIMITS)
    return caught.value.code


def at(offset: int) -> bytes:
    """A comment that puts what follows it at `offset` in the part."""
    return b"<!--" + b" " * (offset - len(files.XML_DECLARATION) - 7) + b"-->"


@pytest.mark.parametrize(
    "part",
    [
        files.XML_DECLARATION + b" " * 10_000 + XXE + SST,  # past the 4 KiB once read
        files.XML_DECLARATION + at(64 * 1024 - 4) + XXE + SST,  # cut by a read's end
        files.XML_DECLARATION + at(3 * 64 * 1024) + XXE.lower() + SST,
        (files.XML_DECLARATION.replace(b"UTF-8", b"UTF-16") + XXE + SST).decode().encode("utf-16"),
    ],
    ids=["after whitespace", "across chunks", "lower case", "utf-16"],
)
def test_a_dtd_anywhere_in_a_part_is_refused(tmp_path: Path, part: bytes) -> None:
    workbook = files.replace_part(files.xlsx(files.rows(2)), "xl/sharedStrings.xml", part)
    assert refused(tmp_path, workbook) == "XML_DTD_FORBIDDEN"


def test_a_dtd_in_a_part_not_named_xml_is_refused(tmp_path: Path) -> None:
    workbook = files.replace_part(files.xlsx(files.rows(2)), "xl/strings.bin", XXE + SST)
    assert refused(tmp_path, workbook) == "XML_DTD_FORBIDDEN"


def test_a_plain_workbook_passes(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(files.xlsx(files.rows(50)))
    check_xlsx(path, LIMITS)
