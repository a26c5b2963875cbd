"""The conformance day totals (ADR 0040) answer the dashboard exactly as the runs do: after
imports, a second import into the same day, concurrent imports, re-checks that change
verdicts, WPS and welders, an undated run and an undo; counted by the migration's code."""

from __future__ import annotations

import asyncio
import datetime as dt
from datetime import UTC, date, timedelta
from itertools import product
from typing import Any

import httpx
from sqlalchemy import func, select

from app.conformance import totals
from app.conformance.runs import BITS
from app.core.db import Database
from app.dashboards import day_totals, service
from app.dashboards.schemas import ConformanceQuery
from app.models import ConformanceDayTotal
from tests import factories as f
from tests.conformance.test_import import MAPPING, ONE_PASS, run, send, shop
from tests.conftest import Headers
from tests.qualifications.test_api import TODAY

GROUPS = ("wps", "welder", "machine", "work_order")


async def both_ways(db: Database, s: dict[str, Any], welder_id: int) -> dict[str, Any]:
    """Every grouping, over ranges that cut between the runs' days and narrowed to a machine or
    a welder (0: none), answered from the totals and from the runs; the unnarrowed totals."""
    d1, d2 = (TODAY - timedelta(days=n) for n in (3, 2))
    ranges: list[dict[str, Any]] = [
        {},
        {"from": d2},
        {"to": d1},
        {"from": d1, "to": d1},
        {"from": d2, "to": TODAY},
    ]
    narrowed: list[dict[str, int]] = [
        {},
        {"machine_id": s["machine"]["id"]},
        {"machine_id": s["machine"]["id"] + 1000},
        {"welder_id": welder_id},
        {"welder_id": 0},
    ]

    async def work(session: Any) -> dict[tuple[str, str, str], Any]:
        seen = {}
        for group_by, days, only in product(GROUPS, ranges, narrowed):
            q = ConformanceQuery(group_by=group_by, **days, **only)
            kept = await service.conformance(session, q)
            read = await service.conformance_from_entries(session, q)
            assert kept.model_dump() == read.model_dump(), (group_by, days, only)
            seen[group_by, str(days), str(only)] = kept.model_dump()
        return seen

    answers: dict[tuple[str, str, str], Any] = await db.run(work, write=False)
    return {g: answers[g, "{}", "{}"] for g in GROUPS}


async def test_the_totals_answer_as_the_runs_do_after_every_kind_of_write(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    s = await shop(client, admin, [{**ONE_PASS, "current_min": 180, "current_max": 260}])
    d1 = dt.datetime.combine(TODAY - timedelta(days=3), dt.time(9))
    d2 = d1 + timedelta(days=1)
    template = s["template"]["id"]
    welder_id = s["welder"]["id"]

    first = await send(
        client,
        admin,
        template,
        [
            run(s, d1, 220),
            run(s, d1 + timedelta(minutes=1), 265),  # over the current
            run(s, d1 + timedelta(minutes=2), 220, badge="X999"),  # no welder
            run(s, d1 + timedelta(minutes=3), 220, arc=1),  # a tack: no run
            run(s, d2, 270, voltage=40),
        ],
        on_error="skip",
    )
    assert first.status_code == 201, first.text
    board = await both_ways(db, s, welder_id)
    assert board["wps"]["total"]["runs"] == 4 and board["wps"]["total"]["failed"] == 2

    # A second import into the same days, then two at once.
    second = await send(
        client, admin, template, [run(s, d1 + timedelta(hours=2), 250), run(s, d2, 300)]
    )
    assert second.status_code == 201, second.text
    both = await asyncio.gather(
        *(
            send(client, admin, template, [run(s, d1 + timedelta(hours=3, minutes=k), 200 + k)])
            for k in range(2)
        )
    )
    assert [r.status_code for r in both] == [201, 201], [r.text for r in both]
    board = await both_ways(db, s, welder_id)
    assert board["welder"]["total"]["runs"] == 8

    # A run without a time, from a template that does not require one: in no range.
    untimed = await f.template(
        client,
        admin,
        s["machine"]["id"],
        mapping=[{"column": "Time", "field": "ts", "type": "datetime"}, *MAPPING[1:]],
        timestamp_field="ts",
        min_arc_time_s=3,
    )
    undated = await send(client, admin, untimed["id"], [run(s, None, 265)])  # type: ignore[arg-type]
    assert undated.status_code == 201, undated.text
    board = await both_ways(db, s, welder_id)
    assert board["machine"]["total"]["runs"] == 9

    # The range widened on a new revision of the WPS, a badge given to a welder without
    # qualifications: re-checks move runs to the new WPS, to a welder, from fail to pass.
    revision = await client.post(f"/api/v1/wps/{s['wps']['id']}/revise", headers=admin)
    assert revision.status_code == 201, revision.text
    draft = revision.json()
    passes = [{**ONE_PASS, "current_min": 180, "current_max": 280}]
    body = {k: draft[k] for k in f.wps_payload() if k in draft} | {"passes": passes}
    assert (await client.put(f"/api/v1/wps/{draft['id']}", json=body, headers=admin)).is_success
    assert (await client.post(f"/api/v1/wps/{draft['id']}/approve", headers=admin)).is_success
    newcomer = await f.employee(client, admin, badge="X999")
    for record in (first, undated):
        url = f"/api/v1/imports/{record.json()['id']}/recheck"
        rechecked = await client.post(url, headers=admin)
        assert rechecked.status_code == 200, rechecked.text
    board = await both_ways(db, s, newcomer["id"])
    groups = {g["key"]: g for g in board["wps"]["groups"]}
    assert groups[draft["id"]]["runs"] == 5  # the first import's 4 runs and the undated one
    by_welder = {g["key"]: g for g in board["welder"]["groups"]}
    assert by_welder[newcomer["id"]]["failing_parameters"] == {"qualification": 1}
    assert board["wps"]["total"]["runs"] == 9

    # Undone: its runs leave the totals with it.
    undone = await client.delete(f"/api/v1/imports/{first.json()['id']}", headers=admin)
    assert undone.status_code == 204, undone.text
    board = await both_ways(db, s, welder_id)
    assert board["work_order"]["total"]["runs"] == 5
    (group,) = board["work_order"]["groups"]
    assert group["key"] == s["order"]["id"] and group["runs"] == 5

    # `workshop totals rebuild` counts the same, without the rows the undo left at zero.
    def emptied(session: Any) -> Any:
        t = ConformanceDayTotal
        return session.scalar(select(func.count()).select_from(t).where(t.runs == 0))

    assert await db.run(emptied, write=False)
    done = await db.run(day_totals.rebuild)
    assert done.run_days == 3  # the two days and the undated run's
    assert await db.run(emptied, write=False) == 0
    assert await both_ways(db, s, welder_id) == board


def test_the_columns_are_the_figures_in_order() -> None:
    """One column per figure, the failure bits in BITS' order: `add` and the dashboard name
    them from FIGURES."""
    columns = [c.name for c in ConformanceDayTotal.__table__.columns if c.name != "id"]
    assert columns == [*totals.KEY, *totals.FIGURES]
    assert totals.FIGURES[4:] == tuple(f"failed_{name}" for name in BITS)


def test_counted_as_the_migration_finds_them() -> None:
    """Stored runs (`facts` rows) by the workshop's day, keys 0 for none, undated on UNDATED,
    tacks left out; taking them away again leaves zeros."""
    late = dt.datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    rows = [
        (late, 1, 7, 3, 9, "fail", BITS["current"] | BITS["qualification"]),
        (late, 1, 7, 3, 9, "pass", 0),
        (late + timedelta(hours=1), 1, None, None, None, "not_checkable", None),
        (None, 2, 7, 3, 9, "pass", 0),
        (late, 1, 7, 3, 9, None, None),  # a tack
    ]
    counted = totals.count(rows)
    figures = dict(zip(totals.FIGURES, [0] * len(totals.FIGURES), strict=True))
    assert {k: dict(zip(totals.FIGURES, v, strict=True)) for k, v in counted.items()} == {
        (date(2026, 11, 24), 1, 7, 3, 9): figures
        | {"runs": 2, "passed": 1, "failed": 1, "failed_current": 1, "failed_qualification": 1},
        (date(2026, 11, 25), 1, 0, 0, 0): figures | {"runs": 1, "not_checkable": 1},
        (totals.UNDATED, 2, 7, 3, 9): figures | {"runs": 1, "passed": 1},
    }
    assert totals.values(totals.count(rows, -1, counted)) == []
