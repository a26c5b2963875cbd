"""The few expressions that differ per database, written once: days, time buckets, durations.

Everything else in the dashboards is portable SQLAlchemy (GROUP BY, CASE, JSON operators), but
the defect Pareto's JSON table function (`service._defects`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Date, Float, String, case, cast, func, literal, literal_column
from sqlalchemy.sql.elements import ColumnElement

from app.core import clock

Bucket = Literal["day", "week", "month"]


def bucket(column: Any, unit: Bucket, dialect: str) -> ColumnElement[Any]:
    """The first day (a date, weeks start on Monday) of the bucket a timestamp falls in."""
    if dialect == "postgresql":
        return cast(func.date_trunc(unit, column), Date)
    if dialect == "mysql":
        day = func.date(column)
        if unit == "day":
            return day
        if unit == "week":
            return func.subdate(day, func.weekday(column))
        return func.date_format(column, "%Y-%m-01")
    if unit == "day":
        return func.date(column)
    if unit == "week":  # SQLite: back to the last Monday
        return func.date(column, "weekday 0", "-6 days")
    return func.date(column, "start of month")


def workshop_time(column: Any, dialect: str) -> Any:
    """A UTC timestamp as the workshop's wall-clock time, for grouping by day, week or month
    (`bucket`, `day`): shifted by the zone's offset at that instant, a CASE over the zone's
    changes of offset since 2000 (newest first: recent rows match early). The column itself
    in UTC. SQL time-zone functions are not portable (app.core.clock)."""
    base, changes = clock.offsets()
    if not base and not changes:
        return column
    offset: Any = literal(base)
    if changes:
        offset = case(*((column >= at, seconds) for at, seconds in reversed(changes)), else_=base)
    if dialect == "postgresql":
        return column + offset * literal_column("INTERVAL '1 second'")
    if dialect == "mysql":
        return func.timestampadd(literal_column("SECOND"), offset, column)
    return func.datetime(column, cast(offset, String) + " seconds")


def day(column: Any, dialect: str) -> ColumnElement[Any]:
    """The day of a timestamp (UTC, or `workshop_time`'s), as cheaply as the database gives
    it: SQLite stores ISO text, whose first ten characters are the day (no date parsing per
    row)."""
    if dialect == "sqlite":
        return func.substr(column, 1, 10)
    return func.date(column)


def days_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    """Fractional days from `start` to `end` (timestamps)."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    if dialect == "mysql":
        return func.timestampdiff(literal_column("SECOND"), start, end) / 86400.0
    return cast(func.julianday(end) - func.julianday(start), Float)


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def ratio(part: int, whole: int) -> float:
    """part / whole, 0.0 for an empty whole (never a division by zero)."""
    return round(part / whole, 4) if whole else 0.0
