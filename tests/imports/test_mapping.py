"""Cell conversion, the same whatever the file format (pure functions, no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.imports.mapping import CONVERTERS, RowMapper

TZ = ZoneInfo("Europe/Ljubljana")


@pytest.mark.parametrize(
    ("kind", "cell", "expected"),
    [
        ("integer", 12.0, 12),  # xlsx numbers are floats
        ("integer", 12, 12),  # xls numbers may be ints
        ("integer", "1 234", 1234),
        ("integer", "12,0", 12),
        ("number", "4,5", 4.5),  # a decimal comma
        ("number", 7, 7.0),
        ("number", dt.timedelta(minutes=1, seconds=30), 90.0),
        ("string", 12.0, "12"),
        ("string", "  padded  ", "padded"),
        ("string", dt.date(2026, 11, 2), "2026-11-02"),
        ("boolean", "Ja", True),
        ("boolean", "no", False),
        ("boolean", 1.0, True),
        ("date", dt.date(2026, 11, 2), "2026-11-02"),
        ("date", 46328.0, "2026-11-02"),  # an Excel serial number
        ("date", "2026-11-02", "2026-11-02"),
        ("date", "2.11.2026", "2026-11-02"),
        ("datetime", dt.datetime(2026, 7, 1, 8, 0), "2026-07-01T06:00:00Z"),  # CEST
        ("datetime", dt.datetime(2026, 11, 2, 8, 0), "2026-11-02T07:00:00Z"),  # CET
        ("datetime", "2026-11-02T08:00:00+00:00", "2026-11-02T08:00:00Z"),
        ("datetime", "02.11.2026 08:30", "2026-11-02T07:30:00Z"),
        ("datetime", 46328.25, "2026-11-02T05:00:00Z"),
        ("datetime", dt.date(2026, 11, 2), "2026-11-01T23:00:00Z"),
    ],
)
def test_conversions(kind: str, cell: Any, expected: Any) -> None:
    value = CONVERTERS[kind](cell, TZ)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("kind", "cell"),
    [
        ("integer", 12.5),
        ("integer", "twelve"),
        ("integer", True),
        ("number", "abc"),
        ("number", "nan"),
        ("boolean", "maybe"),
        ("date", "yesterday"),
        ("date", -5),
        ("datetime", "31.02.2026"),
        ("date", 10**9),
    ],
)
def test_refusals_say_why(kind: str, cell: Any) -> None:
    with pytest.raises(ValueError, match=r".+"):
        CONVERTERS[kind](cell, TZ)


def test_rows_are_mapped_by_header_whatever_the_case_and_order() -> None:
    mapper = RowMapper(
        [
            {"column": "Arc Time", "field": "arc", "type": "number", "required": True},
            {"column": "When", "field": "ts", "type": "datetime"},
            {"column": "Note", "field": "note", "type": "string", "default": "-"},
            {"column": "Absent", "field": "absent", "type": "integer"},
        ],
        "ts",
        "UTC",
    )
    assert mapper.bind([" when ", "ARC TIME", "note", "extra"]) == []
    assert mapper.map_row(2, ["", "", "", ""]) is None  # a blank row is skipped
    assert mapper.map_row(3, ["2026-11-02 08:00", "3,5", "", "x"]) == (
        "2026-11-02T08:00:00Z",
        {"arc": 3.5, "ts": "2026-11-02T08:00:00Z", "note": "-", "absent": None},
    )
    errors = mapper.map_row(4, ["soon", "", "ok"])
    assert isinstance(errors, list)
    assert [(e["row"], e["column"], e["field"]) for e in errors] == [
        (4, "Arc Time", "arc"),
        (4, "When", "ts"),
    ]
    assert errors[0]["message"] == "a value is required"
    assert "not a date/time" in errors[1]["message"]


def test_a_missing_required_column_is_reported() -> None:
    mapper = RowMapper([{"column": "Arc", "field": "arc", "required": True}], None, "UTC")
    assert mapper.bind(["Other"]) == ["required column 'Arc' is not in the header row"]


def test_a_text_past_the_cell_limit_is_an_error_of_its_column() -> None:
    mapping = [
        {"column": "Seam", "field": "seam", "type": "string"},
        {"column": "Job", "field": "job", "type": "integer"},
    ]
    mapper = RowMapper(mapping, None, "UTC", max_cell_chars=5)
    assert mapper.bind(["Seam", "Job"]) == []
    assert mapper.map_row(2, ["S1234", 7]) == (None, {"seam": "S1234", "job": 7})
    (error,) = mapper.map_row(3, ["S12345", 7])  # type: ignore[misc]
    assert (error["row"], error["column"]) == (3, "Seam")
    assert "longer than 5 characters" in error["message"]
    (error,) = mapper.map_row(4, ["S1", "x" * 5])  # type: ignore[misc]
    assert error["column"] == "Job"


def test_an_error_shows_a_long_value_cut_short() -> None:
    mapper = RowMapper([{"column": "Job", "field": "job", "type": "integer"}], None, "UTC")
    mapper.bind(["Job"])
    (error,) = mapper.map_row(2, ["x" * 1500])  # type: ignore[misc]
    assert len(error["message"]) < 100 and error["message"].endswith("is not an integer")


RUN_MAPPING = [
    {"column": "Badge", "field": "welder_badge", "type": "string"},
    {"column": "Wire", "field": "wire_feed_mm_s", "type": "number", "unit": "m/min"},
    {"column": "Energy", "field": "energy_j", "type": "integer", "unit": "Wh"},
    {"column": "Arc", "field": "arc_time_s", "type": "number", "unit": "min"},
    {"column": "Length", "field": "length_mm", "type": "number"},
]


def test_measured_run_fields_are_stored_in_their_canonical_unit() -> None:
    mapper = RowMapper(RUN_MAPPING, None, "UTC")
    assert mapper.bind(["Badge", "Wire", "Energy", "Arc", "Length"]) == []
    assert mapper.map_row(2, ["0457", "9", 1, 1.5, 300]) == (
        None,
        {
            "welder_badge": "0457",
            "wire_feed_mm_s": 150.0,
            "energy_j": 3600,
            "arc_time_s": 90.0,
            "length_mm": 300.0,
        },
    )
    # 7 m/min is 116.666... mm/s: kept to 12 significant digits, far past any machine's.
    _, data = mapper.map_row(3, ["0457", 7, 2, 0.5, 10])  # type: ignore[misc]
    assert data["wire_feed_mm_s"] == pytest.approx(7000 / 60, rel=1e-11)
    assert data["energy_j"] == 7200 and isinstance(data["energy_j"], int)


def test_a_run_shorter_than_the_minimum_arc_time_is_a_tack() -> None:
    mapper = RowMapper(RUN_MAPPING, None, "UTC", min_arc_time_s=3.0)
    mapper.bind(["Badge", "Wire", "Energy", "Arc", "Length"])
    _, tack = mapper.map_row(2, ["0457", 9, 1, 0.04, 5])  # type: ignore[misc]
    assert tack["arc_time_s"] == pytest.approx(2.4) and tack["tack"] is True
    _, run = mapper.map_row(3, ["0457", 9, 1, 0.05, 50])  # type: ignore[misc]
    assert run["arc_time_s"] == 3.0 and "tack" not in run  # the minimum itself is a run
    _, unknown = mapper.map_row(4, ["0457", 9, 1, None, 50])  # type: ignore[misc]
    assert unknown["arc_time_s"] is None and "tack" not in unknown


def test_a_bad_measured_value_is_an_error_of_its_row_not_converted() -> None:
    mapper = RowMapper(RUN_MAPPING, None, "UTC")
    mapper.bind(["Badge", "Wire", "Energy", "Arc", "Length"])
    (error,) = mapper.map_row(2, ["0457", "fast", 1, 1, 1])  # type: ignore[misc]
    assert (error["field"], error["message"]) == ("wire_feed_mm_s", "'fast' is not a number")
