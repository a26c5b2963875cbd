"""What a file really is, decided by its bytes, and whether it is safe to parse.

xlsx is a zip container with a workbook part; xls is an OLE2 compound file. Anything else is
refused, whatever its name or declared type. Before any parser sees a zip, its central
directory is checked against bombs (entry count, each entry's and the total uncompressed
size, the compression ratio), its parts against macros (a VBA project, Excel 4 macro sheets,
a macro-enabled content type: machine exports never carry code, and a stored file is
downloaded and opened again by people), and every part, read whole, against DTDs: a spreadsheet
never needs one, and refusing them closes entity expansion and XXE whatever the parser does.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Lower case, in UTF-8 and in both UTF-16s (XML may be in either). Every part is read whole:
# a DTD may follow any amount of whitespace and comments, and the parser reads a part by the
# workbook's relationships, whatever its name ends with.
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!doctype", "<!entity")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
# Parts and content types (lower case) that carry code: VBA projects (.xlsm, .xltm, .xlam)
# and Excel 4 macro sheets, which run without any VBA.
_MACRO_PARTS = ("vbaproject", "macrosheets/")
_MACRO_TYPES = (b"macroenabled", b"vbaproject", b"macrosheet")
_SCAN_CHUNK = 64 * 1024


class Rejected(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Limits:
    max_uncompressed: int
    max_ratio: float
    max_entries: int


def detect_format(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head == OLE2_MAGIC:
        return "xls"
    if not head:
        raise Rejected(422, "EMPTY_FILE", "The file is empty")
    raise Rejected(415, "UNSUPPORTED_MEDIA_TYPE", "Not an Excel file (.xlsx or .xls)")


def check_xlsx(path: Path, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
            if "xl/workbook.xml" not in names:
                raise Rejected(
                    415, "UNSUPPORTED_MEDIA_TYPE", "A zip file, but not an Excel workbook (.xlsx)"
                )
            if len(entries) > limits.max_entries:
                raise Rejected(422, "ZIP_BOMB", f"The workbook has {len(entries)} parts")
            total = 0
            for entry in entries:
                total += entry.file_size
                compressed = max(entry.compress_size, 1)
                if entry.file_size > limits.max_uncompressed or total > limits.max_uncompressed:
                    raise Rejected(
                        422, "ZIP_BOMB", "The workbook unpacks to more than the allowed size"
                    )
                if (
                    entry.file_size > 1024 * 1024
                    and entry.file_size / compressed > limits.max_ratio
                ):
                    raise Rejected(
                        422, "ZIP_BOMB", f"{entry.filename} is compressed suspiciously well"
                    )
            check_macros(archive, entries)
            for entry in entries:
                if _found(archive, entry, _DTD_MARKERS):
                    raise Rejected(
                        422,
                        "XML_DTD_FORBIDDEN",
                        f"{entry.filename} declares a DTD or entities, which a workbook "
                        "never needs",
                    )
    except (zipfile.BadZipFile, zlib.error) as exc:
        raise Rejected(422, "CORRUPT_FILE", f"The file is damaged or truncated ({exc})") from exc
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise Rejected(422, "CORRUPT_FILE", f"The file cannot be read ({exc})") from exc


def _found(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, markers: tuple[bytes, ...]) -> bool:
    """Whether the part holds one of `markers` (lower case), read whole in chunks; a marker
    cut by a chunk's end is found in the overlap kept from the chunk before."""
    overlap = max(len(marker) for marker in markers) - 1
    tail = b""
    with archive.open(entry) as part:
        while chunk := part.read(_SCAN_CHUNK):
            window = tail + chunk.lower()
            if any(marker in window for marker in markers):
                return True
            tail = window[-overlap:]
    return False


def check_macros(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    for entry in entries:
        name = entry.filename.lower()
        carries = any(part in name for part in _MACRO_PARTS)
        if carries or (name == "[content_types].xml" and _found(archive, entry, _MACRO_TYPES)):
            raise Rejected(
                415,
                "MACROS_NOT_ALLOWED",
                f"The workbook carries macros ({entry.filename}); save it as a plain Excel "
                "workbook (.xlsx) and upload that",
            )


def inspect_file(path: Path, allowed: list[str], limits: Limits) -> str:
    """The file's real format; raises Rejected with the status to answer."""
    file_format = detect_format(path)
    if file_format not in allowed:
        raise Rejected(415, "UNSUPPORTED_MEDIA_TYPE", f".{file_format} files are not accepted here")
    if file_format == "xlsx":
        check_xlsx(path, limits)
    return file_format
