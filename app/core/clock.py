"""The workshop's days (WORKSHOP_TIMEZONE, ADR 0036): which day an instant falls on, and the
UTC instant a day starts at. Every "day" of the product (dashboards, date filters, day totals,
a qualification valid on the day of the weld, "today") is computed here, nowhere else.

Timestamps are stored in UTC; a day is the workshop's calendar day, from its local midnight to
the next one: 24 hours, but 23 or 25 on the days daylight saving time starts or ends. The
databases never convert time zones (MariaDB's CONVERT_TZ needs zone tables, SQLite has none):
a day is queried as a range of UTC instants made here, and SQL that groups timestamps by day
shifts them by the zone's offsets (`offsets`, app/dashboards/sql.py).

One zone for the process: `use` sets it from the settings when the app or the CLI starts, and
the parser process gets the name in its job. Standard library only: the parser process loads it.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_zone: tzinfo = UTC
_name = "UTC"


def load(name: str) -> tzinfo:
    """The zone of an IANA name; ValueError names an unknown one."""
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone (use an IANA name such as Europe/Ljubljana or UTC)"
        ) from None


def use(name: str) -> str:
    """Make `name` the workshop's zone; returns the one it replaces."""
    global _zone, _name
    previous, _zone, _name = _name, load(name), name
    return previous


def name() -> str:
    return _name


def is_utc() -> bool:
    return _zone is UTC


def workshop_day(instant: datetime, zone: tzinfo | None = None) -> date:
    """The workshop's day an instant falls on (a naive instant is UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(zone or _zone).date()


def day_start(day: date, zone: tzinfo | None = None) -> datetime:
    """The UTC instant the workshop's `day` starts at (its local midnight; where a change of
    clocks skips midnight, the first instant of the day)."""
    return datetime.combine(day, time(), zone or _zone).astimezone(UTC)


def today() -> date:
    return workshop_day(datetime.now(UTC))


class DayOf:
    """The workshop day of ISO 8601 UTC text (the parser's `recorded_at`), fast for rows in
    time order: the stretch of instants around the last one that share its day and its UTC
    offset is kept, so most rows cost a parse and two comparisons; in UTC the day is the
    text's first ten characters. Exact where a change of clocks makes days overlap (a zone
    that turns its clocks back just after midnight lives part of an hour of the day before
    again): a stretch never crosses a change of offset."""

    __slots__ = ("day", "high", "low", "name", "utc", "zone")

    def __init__(self, zone_name: str) -> None:
        self.zone = load(zone_name)
        self.name = zone_name
        self.utc = self.zone is UTC
        self.low = self.high = datetime.min.replace(tzinfo=UTC)
        self.day = ""

    def __call__(self, text: str) -> str:
        if self.utc:
            return text[:10]
        instant = datetime.fromisoformat(text)
        if not self.low <= instant < self.high:
            self._stretch(instant)
        return self.day

    def _stretch(self, instant: datetime) -> None:
        local = instant.astimezone(self.zone)
        offset = local.utcoffset() or timedelta()
        midnight = datetime.combine(local.date(), time(), UTC) - offset  # at this offset
        low, high = midnight, midnight + one_day
        changes = _transitions(self.name, instant.year - 1, instant.year + 1)
        at = bisect_right(changes, instant)
        if at:
            low = max(low, changes[at - 1])
        if at < len(changes):
            high = min(high, changes[at])
        self.low, self.high, self.day = low, high, local.date().isoformat()


one_day = timedelta(days=1)


@lru_cache(maxsize=8)
def _transitions(zone_name: str, first_year: int, last_year: int) -> tuple[datetime, ...]:
    """The instants the zone's UTC offset changes (to the second), found by stepping six hours
    at a time and halving the step where the offset differs."""
    zone = load(zone_name)
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    at, offset = start, start.astimezone(zone).utcoffset()
    changes: list[datetime] = []
    step = timedelta(hours=6)
    while at < end:
        nxt = at + step
        if nxt.astimezone(zone).utcoffset() != offset:
            low, high = at, nxt  # the change is in (low, high]: halve to the second
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                if mid.astimezone(zone).utcoffset() == offset:
                    low = mid
                else:
                    high = mid
            changes.append(high.replace(microsecond=0))
            offset = nxt.astimezone(zone).utcoffset()
        at = nxt
    return tuple(changes)


def offsets(
    first_year: int = 2000, last_year: int | None = None
) -> tuple[int, list[tuple[datetime, int]]]:
    """The zone's UTC offset (seconds) as SQL needs it: the offset before the first change
    since `first_year`, then each change (UTC instant, offset from then on) up to `last_year`
    (default: two years from now). Empty changes and offset 0 in UTC."""
    if _zone is UTC:
        return 0, []
    last = last_year if last_year is not None else datetime.now(UTC).year + 2
    changes = _transitions(_name, first_year, last)
    start = datetime(first_year, 1, 1, tzinfo=UTC)

    def offset_at(instant: datetime) -> int:
        delta = instant.astimezone(_zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    return offset_at(start), [(c, offset_at(c)) for c in changes]
