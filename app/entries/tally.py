"""Day totals of entries, counted where the entries are made: in the parser process during an
import, or from stored entries when days are recounted (app.entries.totals).

Plain Python with no imports beyond the standard library: the parser process loads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ALL = ""  # the field of the row that counts a day's entries (field names are never empty)

# [day, field, count, total, low, high]: how a day total travels (JSON) and is stored
Row = list[Any]


class Tally:
    """Per workshop day (ISO text, app.core.clock) and numeric field: how many values, their
    sum, least and greatest; field `ALL` counts the entries. Numbers only: the integer and
    number fields of a template; text, yes/no, dates and empty cells are not counted as
    values."""

    __slots__ = ("days",)

    def __init__(self) -> None:
        self.days: dict[tuple[str, str], list[Any]] = {}

    def add(self, day: str, data: Mapping[str, Any]) -> None:
        days = self.days
        seen = days.get((day, ALL))
        if seen is None:
            days[(day, ALL)] = [1, None, None, None]
        else:
            seen[0] += 1
        for field, value in data.items():
            kind = type(value)
            if kind is not float and kind is not int:  # bool is not int here, on purpose
                continue
            seen = days.get((day, field))
            if seen is None:
                days[(day, field)] = [1, value, value, value]
                continue
            seen[0] += 1
            seen[1] += value
            if value < seen[2]:
                seen[2] = value
            elif value > seen[3]:
                seen[3] = value

    def rows(self) -> list[Row]:
        return [[day, field, *seen] for (day, field), seen in self.days.items()]

    def __bool__(self) -> bool:
        return bool(self.days)
