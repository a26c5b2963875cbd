"""WORKSHOP_TIMEZONE (ADR 0036): the dashboards' days, weeks and date filters are the workshop's,
worked out here on Europe/Ljubljana's days of changing clocks: 2026-03-29 has 23 hours (02:00
CET becomes 03:00 CEST), 2026-10-25 has 25 (03:00 CEST becomes 02:00 CET). Both are Sundays,
so the night after them starts a new week too.

Each night has four moments, written in local time: 23:30 the evening before the day, 00:30
and 23:30 on the day, 00:30 the day after. In UTC the 00:30s fall on the day before.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from app.conformance.service import run_day, runs_in
from app.core import clock
from app.core.config import Settings
from app.core.db import Database
from app.core.pagination import day_range
from app.dashboards import day_totals
from app.main import create_app
from app.models import DAY_TOTALS_ZONE, AppState, WorkOrder
from tests import factories as f
from tests.conftest import Headers, make_settings
from tests.core.test_errors import assert_problem
from tests.dashboards.test_dashboards import get, import_rows
from tests.dashboards.test_work_order_totals import agree, both_ways
from tests.imports import files

LJ = "Europe/Ljubljana"
LJUBLJANA = ZoneInfo(LJ)
SHORT, LONG = date(2026, 3, 29), date(2026, 10, 25)


def moments(day: date) -> list[datetime]:
    """23:30 the evening before, 00:30 and 23:30 on the day, 00:30 the day after (local)."""
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    return [
        datetime(before.year, before.month, before.day, 23, 30),
        datetime(day.year, day.month, day.day, 0, 30),
        datetime(day.year, day.month, day.day, 23, 30),
        datetime(after.year, after.month, after.day, 0, 30),
    ]


def local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=LJUBLJANA)


@pytest.fixture
def zone() -> Iterator[None]:
    """The process's zone, put back after the test (other tests' apps set UTC again too)."""
    previous = clock.use("Europe/Ljubljana")
    yield
    clock.use(previous)


@pytest.fixture
def app(db: Database, settings: Settings, zone: None) -> FastAPI:
    return create_app(settings.model_copy(update={"workshop_timezone": "Europe/Ljubljana"}), db)


# --- the rule itself ----------------------------------------------------------------------


def test_days_of_changing_clocks_are_23_and_25_hours(zone: None) -> None:
    for day, hours in ((SHORT, 23), (LONG, 25), (date(2026, 11, 30), 24)):
        low, high = day_range(day, day)
        assert low is not None and high is not None
        assert high - low == timedelta(hours=hours)
        assert low == datetime.combine(day, datetime.min.time(), LJUBLJANA).astimezone(UTC)
    assert day_range(SHORT, None)[0] == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert day_range(None, LONG)[1] == datetime(2026, 10, 25, 23, tzinfo=UTC)
    for day in (SHORT, LONG):
        before, at_start, at_end, after = (local(m) for m in moments(day))
        assert [clock.workshop_day(m) for m in (before, at_start, at_end, after)] == [
            day - timedelta(days=1),
            day,
            day,
            day + timedelta(days=1),
        ]
        # the same instants as UTC text, as the parser reads them
        day_of = clock.DayOf("Europe/Ljubljana")
        texts = [m.astimezone(UTC).isoformat().replace("+00:00", "Z") for m in (before, at_start)]
        assert [day_of(t) for t in texts] == [str(day - timedelta(days=1)), str(day)]


@pytest.mark.parametrize(
    "zone",
    # Goose Bay turned its clocks back at 00:01 until 2011 (part of an hour of the day before
    # lived again); Santiago and Apia change at midnight; Lord Howe by half an hour.
    ["America/Goose_Bay", "America/Santiago", "Pacific/Apia", "Australia/Lord_Howe"],
)
def test_the_parsers_day_is_the_workshops_day_across_every_change(zone: str) -> None:
    """DayOf, fast for rows in time order, gives what workshop_day gives for each instant:
    the days the parser counts are the days the API and the dashboards count."""
    tz = ZoneInfo(zone)
    changes = [c for c in clock._transitions(zone, 2008, 2012) if c.year in range(2009, 2012)]
    assert len(changes) >= 4
    for change in changes:
        day_of = clock.DayOf(zone)  # rows in time order, across the change, every minute
        instants = [change + timedelta(minutes=i, seconds=-30) for i in range(-1500, 1500)]
        texts = [i.isoformat().replace("+00:00", "Z") for i in instants]
        assert [day_of(t) for t in texts] == [str(clock.workshop_day(i, tz)) for i in instants]


def test_utc_is_the_default_and_unchanged() -> None:
    assert make_settings().workshop_timezone == "UTC"
    assert clock.name() == "UTC"
    assert day_range(SHORT, SHORT) == (
        datetime(2026, 3, 29, tzinfo=UTC),
        datetime(2026, 3, 30, tzinfo=UTC),
    )
    assert clock.workshop_day(datetime(2026, 3, 28, 23, 30, tzinfo=UTC)) == date(2026, 3, 28)
    assert clock.DayOf("UTC")("2026-03-28T23:30:00Z") == "2026-03-28"
    assert clock.offsets() == (0, [])


def test_a_zone_midnight_skips_starts_at_the_change() -> None:
    # Chile moves its clocks at midnight: 2026-09-06 starts at 01:00 local, 04:00 UTC.
    santiago = ZoneInfo("America/Santiago")
    assert clock.day_start(date(2026, 9, 6), santiago) == datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert clock.workshop_day(datetime(2026, 9, 6, 4, tzinfo=UTC), santiago) == date(2026, 9, 6)


def test_offsets_for_sql_are_the_zones_changes(zone: None) -> None:
    base, changes = clock.offsets(2026, 2026)
    assert base == 3600
    assert changes == [
        (datetime(2026, 3, 29, 1, tzinfo=UTC), 7200),
        (datetime(2026, 10, 25, 1, tzinfo=UTC), 3600),
    ]


@pytest.mark.parametrize("name", ["Mars/Olympus", "CEST", "../etc/passwd", ""])
def test_an_unknown_zone_is_a_configuration_error(name: str) -> None:
    from pydantic import ValidationError

    from app.core.config import describe_settings_error

    with pytest.raises(ValidationError) as caught:
        make_settings(workshop_timezone=name)
    message = describe_settings_error(caught.value)
    assert "WORKSHOP_TIMEZONE" in message and "IANA name" in message


def test_a_run_is_judged_on_the_workshops_day(zone: None) -> None:
    """A qualification is valid "on the day of the weld": the workshop's day of the run."""
    at = local(moments(SHORT)[1])  # 00:30 on the short day: 23:30 UTC the day before
    assert run_day(at.astimezone(UTC)) == SHORT
    assert run_day(at.astimezone(UTC).isoformat()) == SHORT
    assert runs_in([{"recorded_at": at.astimezone(UTC)}, {"recorded_at": None}]) == [
        ({"recorded_at": at.astimezone(UTC)}, SHORT),
        ({"recorded_at": None}, None),
    ]


def test_today_is_the_workshops(zone: None) -> None:
    before = datetime.now(LJUBLJANA).date()
    assert clock.today() in (before, datetime.now(LJUBLJANA).date())  # across midnight too


# --- the dashboards -----------------------------------------------------------------------


async def test_production_counts_entries_on_the_workshops_days(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    machine = await f.machine(client, admin)
    template = await f.template(
        client, admin, machine["id"], mapping=files.MAPPING, timezone="Europe/Ljubljana"
    )
    rows = [[m, i, "S", 1.0, 1.0, True] for i, m in enumerate(moments(SHORT) + moments(LONG))]
    await import_rows(client, admin, template["id"], rows)
    daily = await get(client, admin, "production", field="arc_time_s", agg="sum")
    assert [(p["bucket"], p["entries"]) for p in daily["points"]] == [
        ("2026-03-28", 1),
        ("2026-03-29", 2),
        ("2026-03-30", 1),
        ("2026-10-24", 1),
        ("2026-10-25", 2),
        ("2026-10-26", 1),
    ]
    for day in ("2026-03-29", "2026-10-25"):
        one = await get(client, admin, "production", **{"from": day, "to": day})
        assert [(p["bucket"], p["entries"]) for p in one["points"]] == [(day, 2)]
    weekly = await get(client, admin, "production", bucket="week")
    assert [(p["bucket"], p["entries"]) for p in weekly["points"]] == [
        ("2026-03-23", 3),
        ("2026-03-30", 1),
        ("2026-10-19", 3),
        ("2026-10-26", 1),
    ]


async def inspect_nights(client: httpx.AsyncClient, admin: Headers) -> dict[str, Any]:
    welder = await f.employee(client, admin)
    order = await f.work_order(client, admin, client="Night shift d.o.o.")
    for moment in moments(SHORT) + moments(LONG):
        await f.post(
            client,
            admin,
            "/api/v1/inspections",
            f.inspection_payload(
                work_order_id=order["id"],
                welder_id=welder["id"],
                inspected_at=local(moment).isoformat(),
            ),
        )
    return welder


@pytest.mark.parametrize("narrowed", [False, True], ids=["day_totals", "inspections"])
async def test_inspections_fall_on_the_workshops_days(
    client: httpx.AsyncClient, admin: Headers, narrowed: bool
) -> None:
    """Both ways the quality dashboard is answered: the day totals (only days bound it) and
    the inspections themselves (narrowed to a welder)."""
    welder = await inspect_nights(client, admin)
    scope = {"welder_id": welder["id"]} if narrowed else {}
    for day in ("2026-03-29", "2026-10-25"):
        board = await get(client, admin, "inspections", **{"from": day, "to": day}, **scope)
        assert board["overall"]["inspections"] == 2, day
        stats = await get(client, admin, "stats", **{"from": day, "to": day}, **scope)
        assert stats["inspections"]["total"] == 2
    both = await get(client, admin, "inspections", **{"from": "2026-03-28", "to": "2026-03-30"})
    assert both["overall"]["inspections"] == 4
    weekly = (await get(client, admin, "inspections", **scope))["weekly"]
    assert [(w["week"], w["inspections"]) for w in weekly] == [
        ("2026-03-23", 3),
        ("2026-03-30", 1),
        ("2026-10-19", 3),
        ("2026-10-26", 1),
    ]


async def test_work_orders_complete_on_the_workshops_days(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    """Completed at 00:30 on Monday 30 March, local (22:30 UTC on Sunday, the due day): a week
    of its own and late; created 23:30 on the 28th, it is within `from=to=2026-03-29` of
    neither its UTC day (28th) nor the next, but of the workshop's 29th."""
    done = await f.work_order(client, admin, status="completed", due_date="2026-03-29")
    created = local(moments(SHORT)[1])  # 00:30 on the 29th: 23:30 UTC on the 28th
    completed = local(moments(SHORT)[3])  # 00:30 on the 30th: 22:30 UTC on the 29th
    await db.run(
        lambda s: s.execute(
            update(WorkOrder)
            .where(WorkOrder.id == done["id"])
            .values(created_at=created, completed_at=completed)
        )
    )
    board = await get(client, admin, "workorders")
    assert [(w["week"], w["count"]) for w in board["completed_per_week"]] == [("2026-03-30", 1)]
    assert board["on_time_rate"] == 0.0
    day = await get(client, admin, "workorders", **{"from": "2026-03-29", "to": "2026-03-29"})
    assert day["by_status"] == {"completed": 1}
    before = await get(client, admin, "workorders", **{"from": "2026-03-28", "to": "2026-03-28"})
    assert before["by_status"] == {}


async def test_work_order_totals_are_kept_by_the_workshops_days(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    """The totals kept on write (ADR 0041) key an order by the workshop's day it was created
    on and the workshop's week it was completed in: the same order as above, created and
    completed on nights whose UTC day is the day before, then its due date moved."""
    done = await f.work_order(client, admin, status="completed", due_date="2026-03-29")
    created = local(moments(SHORT)[1])  # 00:30 on the 29th: 23:30 UTC on the 28th
    completed = local(moments(SHORT)[3])  # 00:30 on the 30th: 22:30 UTC on the 29th
    await db.run(
        lambda s: s.execute(
            update(WorkOrder)
            .where(WorkOrder.id == done["id"])
            .values(created_at=created, started_at=created, completed_at=completed)
        )
    )
    days = (date(2026, 3, 28), SHORT, date(2026, 3, 30))
    figures = await agree(db, *days)
    assert figures.weekly == [(date(2026, 3, 30), 1)] and figures.on_time == 0
    assert (await both_ways(db, **{"from": SHORT, "to": SHORT})).by_status == {"completed": 1}
    assert (await both_ways(db, **{"from": days[0], "to": days[0]})).by_status == {}
    response = await client.patch(
        f"/api/v1/workorders/{done['id']}", json={"due_date": "2026-03-30"}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert (await agree(db, *days)).on_time == 1


async def test_a_reversed_range_is_still_refused(client: httpx.AsyncClient, admin: Headers) -> None:
    response = await client.get(
        "/api/v1/dashboard/inspections",
        params={"from": "2026-10-25", "to": "2026-03-29"},
        headers=admin,
    )
    assert_problem(response, 422, "VALIDATION_ERROR")


# --- changing the zone ----------------------------------------------------------------------


async def stored(db: Database) -> str | None:
    return await db.run(
        lambda s: s.scalar(select(AppState.value).where(AppState.name == DAY_TOTALS_ZONE))
    )


async def test_totals_of_another_zone_are_refused_until_rebuilt(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    await inspect_nights(client, admin)
    machine = await f.machine(client, admin)
    template = await f.template(
        client, admin, machine["id"], mapping=files.MAPPING, timezone="Europe/Ljubljana"
    )
    rows = [[m, i, "S", 2.0, 1.0, True] for i, m in enumerate(moments(SHORT))]
    await import_rows(client, admin, template["id"], rows)

    async def production() -> list[tuple[str, int]]:
        points = (await get(client, admin, "production"))["points"]
        return [(p["bucket"], p["entries"]) for p in points]

    async def short_day() -> int:
        board = await get(
            client, admin, "inspections", **{"from": "2026-03-29", "to": "2026-03-29"}
        )
        return int(board["overall"]["inspections"])

    ljubljana = [("2026-03-28", 1), ("2026-03-29", 2), ("2026-03-30", 1)]
    assert await production() == ljubljana and await short_day() == 2
    # No row: the totals of a database from before the setting are UTC's; these are not.
    problem = await db.run(day_totals.check_zone)
    assert problem is not None and "workshop totals rebuild" in problem
    with pytest.raises(day_totals.ZoneMismatch):
        await day_totals.ensure_zone(db)
    done = await db.run(day_totals.rebuild)
    assert (done.zone, done.previous, done.entry_days) == ("Europe/Ljubljana", "UTC", 3)
    assert done.inspection_days == 6
    assert await stored(db) == "Europe/Ljubljana"
    assert await production() == ljubljana and await short_day() == 2  # the same, recounted
    await day_totals.ensure_zone(db)

    # Back to UTC: refused, then counted by UTC days (the 00:30s move to the day before).
    clock.use("UTC")
    assert await db.run(day_totals.check_zone) is not None
    done = await db.run(day_totals.rebuild)
    assert (done.zone, done.previous) == ("UTC", "Europe/Ljubljana")
    assert await production() == [("2026-03-28", 2), ("2026-03-29", 2)]
    assert await short_day() == 2  # 00:30 on the 30th local is 22:30 UTC on the 29th
    await day_totals.ensure_zone(db)


async def test_a_database_without_totals_takes_the_zone(db: Database, zone: None) -> None:
    assert await stored(db) is None
    assert await db.run(day_totals.check_zone) is None
    assert await stored(db) == "Europe/Ljubljana"
    clock.use("UTC")
    await day_totals.ensure_zone(db)  # still no totals: UTC now
    assert await stored(db) == "UTC"


def test_the_cli_rebuilds_and_an_import_refuses(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, zone: None
) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from app.core import migrations
    from app.core.config import get_settings

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))
    migrations.upgrade(url)

    def run(*args: str, code: int = 0, timezone: str = "UTC") -> Any:
        monkeypatch.setenv("WORKSHOP_TIMEZONE", timezone)
        get_settings.cache_clear()
        result = CliRunner().invoke(cli, list(args))
        assert result.exit_code == code, result.output + repr(result.exception)
        return result

    try:
        run("seed")  # counted and recorded in UTC
        workbook = tmp_path / "cell.xlsx"
        workbook.write_bytes(files.xlsx(files.rows(1)))
        refused = run("import", str(workbook), "--template", "1", code=1, timezone=LJ)
        assert "workshop totals rebuild" in refused.stderr
        rebuilt = run("totals", "rebuild", timezone=LJ)
        assert "by the days of Europe/Ljubljana (were UTC)" in rebuilt.stdout
        bad = run("totals", "rebuild", code=2, timezone="Europe/Atlantis")
        assert "WORKSHOP_TIMEZONE" in bad.stderr
    finally:
        get_settings.cache_clear()
