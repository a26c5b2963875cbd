"""Every dashboard on hand-made data whose right answers are worked out here, on every backend;
and on an empty workshop (zeros, never an error)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.core.db import Database
from app.dashboards import service
from app.dashboards.schemas import DashboardQuery
from app.entries import totals
from app.models import WorkOrder
from tests import factories as f
from tests.conftest import Headers
from tests.core.test_errors import assert_problem
from tests.imports import files

TODAY = date.today()
URL = "/api/v1/dashboard"


async def get(http: httpx.AsyncClient, headers: Headers, path: str, **params: Any) -> Any:
    response = await http.get(f"{URL}/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def workshop(client: httpx.AsyncClient, admin: Headers, db: Database) -> dict[str, Any]:
    welder = await f.employee(client, admin, first_name="Ana", last_name="Novak")
    machine = await f.machine(client, admin)
    late = await f.work_order(
        client,
        admin,
        client="Acme",
        priority="urgent",
        machine_id=machine["id"],
        assigned_welder_id=welder["id"],
        due_date=str(TODAY - timedelta(days=5)),
    )
    on_time = await f.work_order(
        client,
        admin,
        client="Steel & Co",
        status="completed",
        due_date=str(TODAY + timedelta(days=3)),
    )
    overran = await f.work_order(
        client,
        admin,
        client="Steel & Co",
        status="completed",
        due_date=str(TODAY - timedelta(days=10)),
    )
    await f.work_order(
        client, admin, client="Acme", status="cancelled", due_date=str(TODAY - timedelta(days=9))
    )
    # The completed orders were created two days before they were completed (now).
    await db.run(
        lambda s: s.execute(
            update(WorkOrder)
            .where(WorkOrder.id.in_([on_time["id"], overran["id"]]))
            .values(created_at=datetime.now(UTC) - timedelta(days=2))
        )
    )

    monday = datetime(2026, 11, 23, 8, tzinfo=UTC)

    async def inspect(
        order: dict[str, Any],
        weld: str | None,
        result: str,
        hours: int,
        method: str = "VT",
        defects: list[dict[str, int]] | None = None,
    ) -> None:
        await f.post(
            client,
            admin,
            "/api/v1/inspections",
            f.inspection_payload(
                work_order_id=order["id"],
                weld_reference=weld,
                result=result,
                method=method,
                welder_id=welder["id"],
                machine_id=machine["id"],
                defects=defects or [],
                inspected_at=(monday + timedelta(hours=hours)).isoformat(),
            ),
        )

    await inspect(
        late, "W1", "Fail", 0, "RT", [{"code": 2011, "count": 3}, {"code": 5011, "count": 1}]
    )
    await inspect(late, "W1", "Pass", 5)
    await inspect(late, "W2", "Pass", 1)
    await inspect(on_time, "W3", "Rework", 2, defects=[{"code": 2011, "count": 1}])
    await inspect(on_time, "W3", "Pass", 30)
    await inspect(on_time, None, "Pass", 3)
    return {"welder": welder, "machine": machine, "late": late}


async def test_work_order_dashboard(
    client: httpx.AsyncClient, admin: Headers, workshop: dict[str, Any]
) -> None:
    board = await get(client, admin, "workorders")
    assert board["by_status"] == {"open": 1, "completed": 2, "cancelled": 1}
    assert board["by_priority"] == {"urgent": 1, "normal": 3}
    assert [
        (o["order_id"], o["days_overdue"], o["assigned_welder_name"]) for o in board["overdue"]
    ] == [(workshop["late"]["order_id"], 5, "Ana Novak")]
    assert board["on_time_rate"] == 0.5  # one of the two completed orders was late
    assert 1.99 < board["lead_time_days"] < 2.01
    assert sum(w["count"] for w in board["completed_per_week"]) == 2
    monday = TODAY - timedelta(days=TODAY.weekday())
    assert board["completed_per_week"][0]["week"] == str(monday)
    acme = await get(client, admin, "workorders", client="acme")
    assert acme["by_status"] == {"open": 1, "cancelled": 1} and acme["on_time_rate"] == 0


async def test_inspection_dashboard(
    client: httpx.AsyncClient, admin: Headers, workshop: dict[str, Any]
) -> None:
    board = await get(client, admin, "inspections")
    overall = board["overall"]
    # 6 inspections, 4 passed; 4 welds (W1, W2, W3, one without reference):
    # first time right W2 and the lone one -> FPY 2/4; W1 (fail) and W3 (rework) repaired -> 2/4.
    assert (overall["inspections"], overall["passed"], overall["pass_rate"]) == (6, 4, 0.6667)
    assert (overall["welds"], overall["first_pass"], overall["first_pass_yield"]) == (4, 2, 0.5)
    assert (overall["repaired"], overall["repair_rate"]) == (2, 0.5)
    by_method = {q["key"]: q for q in board["by_method"]}
    assert (
        by_method["RT"]["inspections"],
        by_method["RT"]["welds"],
        by_method["RT"]["first_pass"],
    ) == (1, 1, 0)
    assert (
        by_method["VT"]["inspections"],
        by_method["VT"]["passed"],
        by_method["VT"]["welds"],
        by_method["VT"]["first_pass"],
        by_method["VT"]["repaired"],
    ) == (5, 4, 3, 2, 1)
    assert [(q["key"], q["welds"]) for q in board["by_client"]] == [("Acme", 2), ("Steel & Co", 2)]
    assert board["by_welder"][0]["key"] == str(workshop["welder"]["id"])
    assert board["defects"] == [
        {"code": 2011, "count": 4, "share": 0.8, "cumulative_share": 0.8},
        {"code": 5011, "count": 1, "share": 0.2, "cumulative_share": 1.0},
    ]
    assert board["weekly"] == [
        {"week": "2026-11-23", "inspections": 6, "passed": 4, "pass_rate": 0.6667}
    ]
    narrowed = await get(client, admin, "inspections", **{"from": "2026-11-24", "to": "2026-11-30"})
    assert narrowed["overall"]["inspections"] == 1  # only W3's second inspection (30 h later)


async def test_day_totals_follow_every_kind_of_write(
    client: httpx.AsyncClient, admin: Headers, db: Database, workshop: dict[str, Any]
) -> None:
    """The quality figures kept on write equal those read from the inspections themselves
    after creates, edits that move a day, a weld or a work order, deletes, a client renamed
    on a work order, and concurrent writes."""

    async def both_ways(**params: Any) -> None:
        q = DashboardQuery(**params)

        async def work(session: Any) -> tuple[Any, Any]:
            dialect = session.get_bind().dialect.name
            kept = service.board(*await service.from_day_totals(session, q, dialect))
            read = service.board(*await service.from_inspections(session, q, dialect))
            return kept, read

        kept, read = await db.run(work, write=False)
        assert kept.model_dump() == read.model_dump()

    async def send(verb: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await client.request(verb, url, json=body or None, headers=admin)
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content else {}

    ranges = [{}, {"from": "2026-11-24"}, {"to": "2026-11-23"}]
    for params in ranges:
        await both_ways(**params)
    listed = (await client.get("/api/v1/inspections", headers=admin)).json()["items"]
    by_weld = {(i["weld_reference"], i["result"]): i for i in listed}
    w1_fail, w3_pass = by_weld[("W1", "Fail")], by_weld[("W3", "Pass")]
    late, order_url = workshop["late"], f"/api/v1/workorders/{workshop['late']['id']}"
    steps = [
        # a day later and passed: W1's first inspection now passes, its weld no longer repaired
        (
            "PATCH",
            f"/api/v1/inspections/{w1_fail['id']}",
            {"result": "Pass", "inspected_at": "2026-12-01T09:00:00Z"},
        ),
        ("PATCH", order_url, {"client": "Zeta Cranes"}),
        (
            "POST",
            "/api/v1/inspections",
            f.inspection_payload(
                work_order_id=w3_pass["work_order_id"],
                weld_reference="W3",
                result="Fail",
                inspected_at="2026-11-20T07:00:00Z",
                defects=[{"code": 104}, {"code": 2011, "count": 2}],
            ),
        ),
        (
            "PUT",
            f"/api/v1/inspections/{w3_pass['id']}",
            f.inspection_payload(
                work_order_id=late["id"],
                weld_reference="W2",
                result="Pass",
                method="UT",
                inspected_at="2026-11-23T07:00:00Z",
            ),
        ),
        ("DELETE", f"/api/v1/inspections/{by_weld[('W2', 'Pass')]['id']}", {}),
    ]
    for verb, url, body in steps:
        await send(verb, url, body)
        for params in ranges:
            await both_ways(**params)
    await asyncio.gather(
        *(
            send(
                "POST",
                "/api/v1/inspections",
                f.inspection_payload(
                    work_order_id=late["id"],
                    weld_reference=f"C{n % 2}",
                    result=("Pass", "Fail")[n % 2],
                    inspected_at=f"2026-11-25T0{n}:00:00Z",
                    welder_id=workshop["welder"]["id"],
                ),
            )
            for n in range(6)
        )
    )
    for params in ranges:
        await both_ways(**params)
    overall = (await get(client, admin, "inspections"))["overall"]
    assert overall["inspections"] == 6 + 1 - 1 + 6


async def test_equipment_stock_and_stats(
    client: httpx.AsyncClient, admin: Headers, workshop: dict[str, Any]
) -> None:
    for code, due, status in (
        ("OVERDUE", -3, "operational"),
        ("SOON", 10, "operational"),
        ("LATER", 100, "operational"),
        ("GONE", -50, "retired"),
    ):
        await f.post(
            client,
            admin,
            "/api/v1/equipment",
            f.equipment_payload(
                code=code,
                type="gauge",
                status=status,
                next_calibration_due=str(TODAY + timedelta(days=due)),
            ),
        )
    board = await get(client, admin, "equipment")
    assert board["by_status"] == {"operational": 3, "retired": 1} and board["by_type"] == {
        "gauge": 4
    }
    assert [(e["code"], e["days_left"]) for e in board["calibration_overdue"]] == [("OVERDUE", -3)]
    assert [(e["code"], e["days_left"]) for e in board["calibration_due_soon"]] == [("SOON", 10)]
    assert len((await get(client, admin, "equipment", days=120))["calibration_due_soon"]) == 2

    await f.item(client, admin, item_id="A", quantity=5, reorder_level=10, reorder_quantity=50)
    await f.item(client, admin, item_id="B", quantity=2, reorder_level=10, reorder_quantity=None)
    await f.item(client, admin, item_id="C", quantity=20, reorder_level=10)
    alerts = await get(client, admin, "inventory/alerts")
    assert [(a["item_id"], a["suggested_order"]) for a in alerts] == [("B", 18.0), ("A", 50.0)]

    quals = f"/api/v1/employees/{workshop['welder']['id']}/qualifications"
    await f.post(
        client,
        admin,
        quals,
        f.qualification_payload(
            expires_on=str(TODAY + timedelta(days=10)),
            issued_on="2025-01-01",
            last_confirmed_on=str(TODAY),
        ),
    )
    await f.post(
        client,
        admin,
        quals,
        f.qualification_payload(
            expires_on="2030-01-01",
            issued_on="2025-01-01",
            last_confirmed_on=str(TODAY - timedelta(days=200)),
        ),
    )
    stats = await get(client, admin, "stats")
    assert stats["work_orders"] == {
        "total": 4,
        "by_status": {"open": 1, "completed": 2, "cancelled": 1},
        "overdue": 1,
    }
    assert stats["equipment"]["calibration_due"] == 2
    assert stats["inspections"] == {"total": 6, "passed": 4, "pass_rate": 0.6667}
    assert stats["inventory_alerts"] == 2
    assert stats["qualifications_expiring"] == 1
    assert sorted(a["reason"] for a in stats["qualification_alerts"]) == [
        "continuity_overdue",
        "expiring",
    ]


async def import_rows(
    http: httpx.AsyncClient, headers: Headers, template_id: int, rows: list[list[Any]]
) -> int:
    """Import rows (Timestamp, Job, Seam, Arc time [s], Wire [m], OK) through the API."""
    response = await http.post(
        f"/api/v1/templates/{template_id}/imports",
        files={"file": ("export.xlsx", files.xlsx(rows), "application/octet-stream")},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_production(client: httpx.AsyncClient, admin: Headers) -> None:
    machine = await f.machine(client, admin)
    template = await f.template(
        client, admin, machine["id"], mapping=files.MAPPING, timezone="UTC", sheet="Daten"
    )
    day1, day2 = datetime(2026, 11, 24, 7), datetime(2026, 11, 25, 7)
    first = await import_rows(
        client,
        admin,
        template["id"],
        [
            [day1, 1, "S1", 10, 1.5, True],
            [day1 + timedelta(hours=3), 2, "S2", 20, 2.5, False],
            [day2, 3, "S3", 5, None, True],
        ],
    )
    daily = await get(client, admin, "production", field="arc_time_s", agg="sum")
    assert [(p["bucket"], p["entries"], p["value"]) for p in daily["points"]] == [
        ("2026-11-24", 2, 30.0),
        ("2026-11-25", 1, 5.0),
    ]
    weekly = await get(client, admin, "production", bucket="week", field="arc_time_s", agg="avg")
    assert [(p["bucket"], p["entries"], round(p["value"], 4)) for p in weekly["points"]] == [
        ("2026-11-23", 3, 11.6667)
    ]
    monthly = await get(client, admin, "production", bucket="month", field="arc_time_s", agg="max")
    assert [(p["bucket"], p["value"]) for p in monthly["points"]] == [("2026-11-01", 20.0)]
    counted = await get(client, admin, "production", machine_id=machine["id"], to="2026-11-24")
    assert [(p["entries"], p["value"]) for p in counted["points"]] == [(2, None)]
    # The empty wire cell defaults to 0 (the template says so); text and yes/no are no numbers.
    wire = await get(client, admin, "production", field="wire_m", agg="min")
    assert [(p["entries"], p["value"]) for p in wire["points"]] == [(2, 1.5), (1, 0.0)]
    for field in ("seam", "ok", "nothing"):
        points = (await get(client, admin, "production", field=field))["points"]
        assert [(p["entries"], p["value"]) for p in points] == [(2, None), (1, None)]

    # A second import into the same day adds to it: counts and sums add, least and greatest hold.
    second = await import_rows(
        client, admin, template["id"], [[datetime(2026, 11, 24, 23, 30), 4, "S4", 40.5, 3, True]]
    )
    for agg, value in (("sum", 70.5), ("avg", 23.5), ("min", 10.0), ("max", 40.5)):
        daily = await get(client, admin, "production", field="arc_time_s", agg=agg)
        assert [(p["entries"], p["value"]) for p in daily["points"]] == [(3, value), (1, 5.0)]

    # Undoing the first import counts its days again from the entries left.
    assert (await client.delete(f"/api/v1/imports/{first}", headers=admin)).status_code == 204
    for agg in ("sum", "min", "max"):
        daily = await get(client, admin, "production", field="arc_time_s", agg=agg)
        assert [(p["bucket"], p["entries"], p["value"]) for p in daily["points"]] == [
            ("2026-11-24", 1, 40.5)
        ]
    assert (await client.delete(f"/api/v1/imports/{second}", headers=admin)).status_code == 204
    assert (await get(client, admin, "production"))["points"] == []
    assert_problem(
        await client.get(f"{URL}/production", params={"field": "x; DROP"}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )


async def test_concurrent_imports_and_undos_of_one_day_all_count(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    machine = await f.machine(client, admin)
    template = await f.template(
        client, admin, machine["id"], mapping=files.MAPPING, timezone="UTC", sheet="Daten"
    )

    def batch(k: int) -> list[list[Any]]:
        return [[datetime(2026, 11, 24, 6 + k, m), k, "S", 10.0 * k + m, 1, True] for m in range(5)]

    ids = await asyncio.gather(
        *(import_rows(client, admin, template["id"], batch(k)) for k in range(4))
    )
    undone, added = await asyncio.gather(
        client.delete(f"/api/v1/imports/{ids[0]}", headers=admin),
        import_rows(client, admin, template["id"], batch(4)),
    )
    assert undone.status_code == 204 and added
    kept = [10.0 * k + m for k in range(1, 5) for m in range(5)]
    for agg, value in (("sum", sum(kept)), ("min", min(kept)), ("max", max(kept))):
        points = (await get(client, admin, "production", field="arc_time_s", agg=agg))["points"]
        assert [(p["bucket"], p["entries"], p["value"]) for p in points] == [
            ("2026-11-24", 20, value)
        ]


def test_production_counts_what_the_migration_finds() -> None:
    """Entries stored before the day totals existed are counted by the migration's own code."""
    rows = [
        (1, 2, datetime(2026, 11, 24, 23, 59, tzinfo=UTC), {"a": 1, "b": 2.5, "c": "x"}),
        (1, 2, datetime(2026, 11, 24, 0, 0, tzinfo=UTC), {"a": 3, "b": None, "c": True}),
        (1, 2, datetime(2026, 11, 25, 0, 0, tzinfo=UTC), {"a": -1}),
        (1, 3, datetime(2026, 11, 24, 12, 0, tzinfo=UTC), {"a": 7}),
        (1, 3, None, {"a": 100}),
    ]
    tallies = totals.tally_entries(rows)
    assert sorted(tallies) == [(1, 2), (1, 3)]
    assert sorted(tallies[(1, 2)].rows()) == [
        ["2026-11-24", "", 2, None, None, None],
        ["2026-11-24", "a", 2, 4, 1, 3],
        ["2026-11-24", "b", 1, 2.5, 2.5, 2.5],
        ["2026-11-25", "", 1, None, None, None],
        ["2026-11-25", "a", 1, -1, -1, -1],
    ]
    assert sorted(tallies[(1, 3)].rows()) == [
        ["2026-11-24", "", 1, None, None, None],
        ["2026-11-24", "a", 1, 7, 7, 7],
    ]


@pytest.mark.parametrize(
    "path", ["stats", "workorders", "equipment", "inspections", "inventory/alerts", "production"]
)
async def test_an_empty_workshop_gives_zeros(
    client: httpx.AsyncClient, admin: Headers, path: str
) -> None:
    board = await get(client, admin, path)
    text = str(board)
    assert "None" not in text.replace("'lead_time_days': None", "").replace("'field': None", "")
    if path == "inspections":
        assert board["overall"]["pass_rate"] == 0 and board["defects"] == []
    if path == "stats":
        assert board["inspections"] == {"total": 0, "passed": 0, "pass_rate": 0.0}


async def test_bad_ranges_and_no_credential(client: httpx.AsyncClient, admin: Headers) -> None:
    bad = await client.get(
        f"{URL}/stats", params={"from": "2026-12-01", "to": "2026-11-01"}, headers=admin
    )
    assert "'from' is after 'to'" in str(assert_problem(bad, 422, "VALIDATION_ERROR")["detail"])
    assert_problem(
        await client.get(f"{URL}/stats", params={"days": 0}, headers=admin), 422, "VALIDATION_ERROR"
    )
    assert_problem(
        await client.get(f"{URL}/production", params={"bucket": "hour"}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    assert_problem(await client.get(f"{URL}/stats"), 401, "UNAUTHORIZED")


async def test_weld_figures_follow_edits_and_deletes(
    client: httpx.AsyncClient, admin: Headers, workshop: dict[str, Any]
) -> None:
    listed = (
        await client.get(
            "/api/v1/inspections",
            params={"weld_reference": "W1", "sort_by": "inspected_at"},
            headers=admin,
        )
    ).json()["items"]
    failed_first, passed_later = listed
    assert (failed_first["result"], passed_later["result"]) == ("Fail", "Pass")
    # Deleting W1's failed inspection makes its pass the first: W1 is now right first time.
    assert (
        await client.delete(f"/api/v1/inspections/{failed_first['id']}", headers=admin)
    ).status_code == 204
    overall = (await get(client, admin, "inspections"))["overall"]
    assert (overall["welds"], overall["first_pass"], overall["repaired"]) == (4, 3, 1)
    # Moving the pass to another weld reference leaves W1 without inspections, W9 with one.
    moved = await client.patch(
        f"/api/v1/inspections/{passed_later['id']}", json={"weld_reference": "W9"}, headers=admin
    )
    assert moved.status_code == 200
    overall = (await get(client, admin, "inspections"))["overall"]
    assert (overall["welds"], overall["first_pass"], overall["repaired"]) == (4, 3, 1)
    # Marking the lone inspection as rework makes it a repaired weld.
    lone = next(
        i
        for i in (await client.get("/api/v1/inspections", headers=admin)).json()["items"]
        if i["weld_reference"] is None
    )
    await client.patch(
        f"/api/v1/inspections/{lone['id']}", json={"result": "Rework"}, headers=admin
    )
    overall = (await get(client, admin, "inspections"))["overall"]
    assert (overall["first_pass"], overall["repaired"]) == (2, 2)
