"""Map and type spreadsheet rows by a template. Pure functions: they run in the parser process.

Cells arrive as python-calamine gives them: str, float (xlsx numbers), int (xls numbers),
bool, date, datetime, time, timedelta, or "" for an empty cell. Every value is converted to its
field's type the same way whatever the file format (an xlsx `12.0` and an xls `12` are both the
integer 12). Entries store JSON: dates as `YYYY-MM-DD`, datetimes as ISO 8601 in UTC.

Beside free fields, a template may map the run fields the conformance checks read
(`RUN_FIELDS`). A measured one is stored in its canonical unit (mm, s, A, V, mm/s, J) whatever
unit the machine exports, with the factors of `app.conformance.checks.UNITS`, so stored run data
never needs its template to be read. A run shorter than the template's minimum arc time is a
tack: kept, with `"tack": true` in its data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from math import isfinite
from typing import Any
from zoneinfo import ZoneInfo

from app.conformance import checks

EXCEL_EPOCH = datetime(1899, 12, 30)
_TRUE = {"true", "yes", "y", "1", "x", "da", "ja", "on"}
_FALSE = {"false", "no", "n", "0", "ne", "nein", "off"}
_EU_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_MAX_SERIAL = 2_958_465  # 9999-12-31
_SHOWN_CHARS = 60

# Run fields and the types their columns may have; the measured ones are the keys of UNITS.
RUN_TEXT_FIELDS = (
    "welder_badge",
    "job_number",
    "wps_number",
    "order_id",
    "weld_reference",
    "process",
)
RUN_NUMBER_FIELDS = ("pass_seq", *checks.UNITS)
RUN_BOOLEAN_FIELDS = ("vendor_ok",)  # the machine's own OK/NOK, kept beside our verdict
RUN_FIELDS = (*RUN_TEXT_FIELDS, *RUN_NUMBER_FIELDS, *RUN_BOOLEAN_FIELDS)
TACK = "tack"


def _shown(value: Any) -> str:
    """A cell's value in an error message, cut short: the message is kept with the import."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 4]}...{text[-1]}"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number_text(text: str) -> str:
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as European exports write
    return text


def to_string(value: Any, tz: ZoneInfo) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def to_integer(value: Any, tz: ZoneInfo) -> int:
    if isinstance(value, bool):
        raise ValueError("a yes/no value, not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError(f"{value} is not a whole number")
    if isinstance(value, str):
        text = _number_text(value)
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{_shown(value)} is not an integer") from None
        if number.is_integer() and abs(number) < 2**63:
            return int(number)
        raise ValueError(f"{_shown(value)} is not a whole number")
    raise ValueError(f"{_shown(value)} is not an integer")


def to_number(value: Any, tz: ZoneInfo) -> float:
    if isinstance(value, bool):
        raise ValueError("a yes/no value, not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, timedelta):
        number = value.total_seconds()
    elif isinstance(value, str):
        try:
            number = float(_number_text(value))
        except ValueError:
            raise ValueError(f"{_shown(value)} is not a number") from None
    else:
        raise ValueError(f"{_shown(value)} is not a number")
    if not isfinite(number):
        raise ValueError(f"{_shown(value)} is not a finite number")
    return number


def to_boolean(value: Any, tz: ZoneInfo) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"{_shown(value)} is not yes/no")


def _from_serial(value: float) -> datetime:
    if not 0 < value < _MAX_SERIAL:
        raise ValueError(f"{value} is not an Excel date")
    return EXCEL_EPOCH + timedelta(days=value)


def _parse_text_datetime(text: str) -> datetime:
    text = text.strip()
    if match := _EU_DATE.match(text):
        day, month, year, hour, minute, second = match.groups()
        return datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{_shown(text)} is not a date/time (use ISO 8601 or dd.mm.yyyy)"
        ) from None


def to_date(value: Any, tz: ZoneInfo) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value)).date().isoformat()
    if isinstance(value, str):
        return _parse_text_datetime(value).date().isoformat()
    raise ValueError(f"{_shown(value)} is not a date")


def to_datetime(value: Any, tz: ZoneInfo) -> str:
    """ISO 8601 in UTC; times without an offset are in the template's time zone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = _from_serial(float(value))
    elif isinstance(value, str):
        moment = _parse_text_datetime(value)
    else:
        raise ValueError(f"{_shown(value)} is not a date/time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


CONVERTERS: dict[str, Callable[[Any, ZoneInfo], Any]] = {
    "string": to_string,
    "integer": to_integer,
    "number": to_number,
    "boolean": to_boolean,
    "date": to_date,
    "datetime": to_datetime,
}


@lru_cache(maxsize=4096, typed=True)  # a machine exports few distinct values: a lookup each
def to_canonical(field: str, value: float, unit: str) -> float | int:
    """`value` in `unit` as `field`'s canonical unit. Factors such as 1000/60 leave float noise
    in the last digits; no machine exports 12 significant digits, so they are cut there."""
    number = float(f"{checks.convert(field, value, unit):.12g}")
    return int(number) if isinstance(value, int) and number.is_integer() else number


def normalise_header(value: Any) -> str:
    return to_string(value, ZoneInfo("UTC")).strip().casefold() if not _blank(value) else ""


class RowMapper:
    """Binds a template's mapping to a sheet's header row, then maps data rows.

    A text cell longer than `max_cell_chars` (IMPORT_MAX_CELL_CHARS) is an error of its row,
    whatever its field's type: a few long strings repeated down a sheet cost a small file
    little and the API much, once per row."""

    def __init__(
        self,
        mapping: list[dict[str, Any]],
        timestamp_field: str | None,
        timezone: str,
        max_cell_chars: int | None = None,
        min_arc_time_s: float | None = None,
    ) -> None:
        self.mapping = mapping
        self.timestamp_field = timestamp_field
        self.tz = ZoneInfo(timezone)
        self.max_cell_chars = max_cell_chars
        self.min_arc_time_s = min_arc_time_s
        self.columns: list[tuple[int | None, dict[str, Any], Callable[[Any, ZoneInfo], Any]]] = []

    def bind(self, headers: list[Any]) -> list[str]:
        """Find each mapped column in the header row; return problems (missing required)."""
        positions: dict[str, int] = {}
        for index, header in enumerate(headers):
            positions.setdefault(normalise_header(header), index)
        problems: list[str] = []
        for spec in self.mapping:
            found = positions.get(spec["column"].strip().casefold())
            if found is None and spec.get("required") and spec.get("default") is None:
                problems.append(f"required column {spec['column']!r} is not in the header row")
            self.columns.append((found, spec, CONVERTERS[spec.get("type", "string")]))
        return problems

    def map_row(
        self, row_number: int, cells: list[Any]
    ) -> tuple[str | None, dict[str, Any]] | list[dict[str, Any]] | None:
        """(recorded_at, data) for a good row, a list of errors for a bad one, None if blank."""
        if all(_blank(cell) for cell in cells):
            return None
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for index, spec, convert in self.columns:
            raw = cells[index] if index is not None and index < len(cells) else None
            if _blank(raw):
                default = spec.get("default")
                if default is None:
                    if spec.get("required"):
                        errors.append(_error(row_number, spec, "a value is required"))
                    else:
                        data[spec["field"]] = None
                    continue
                raw = default
            elif self.max_cell_chars and isinstance(raw, str) and len(raw) > self.max_cell_chars:
                message = f"longer than {self.max_cell_chars} characters (IMPORT_MAX_CELL_CHARS)"
                errors.append(_error(row_number, spec, message))
                continue
            try:
                value = convert(raw, self.tz)
                unit = spec.get("unit")
                if unit and isinstance(value, int | float) and not isinstance(value, bool):
                    value = to_canonical(spec["field"], value, unit)
                data[spec["field"]] = value
            except (ValueError, OverflowError) as exc:
                errors.append(_error(row_number, spec, str(exc)))
        if errors:
            return errors
        arc_time, least = data.get("arc_time_s"), self.min_arc_time_s
        if least is not None and isinstance(arc_time, int | float) and arc_time < least:
            data[TACK] = True
        recorded_at = None
        if self.timestamp_field and data.get(self.timestamp_field) is not None:
            value = data[self.timestamp_field]
            recorded_at = value if "T" in value else to_datetime(value, self.tz)
        return recorded_at, data


def _error(row: int, spec: dict[str, Any], message: str) -> dict[str, Any]:
    return {"row": row, "column": spec["column"], "field": spec["field"], "message": message}
