"""Weld data conformance through the API, on every database: runs resolved and judged on
import, read back through the entries list, the dashboard and the export, re-checked, and
counted as evidence of welding."""

from __future__ import annotations

import csv
import datetime as dt
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.auth.roles import Role
from app.core.config import Settings
from app.core.db import Database
from app.main import create_app
from tests import factories as f
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem
from tests.imports import files
from tests.qualifications.test_api import TODAY, approved_wps, iso, welder

HEADER = [
    "Time",
    "Badge",
    "WPS",
    "Weld",
    "Current [A]",
    "Voltage [V]",
    "Arc [s]",
    "Length [mm]",
    "OK",
]
MAPPING = [
    {"column": "Time", "field": "ts", "type": "datetime", "required": True},
    {"column": "Badge", "field": "welder_badge", "type": "string"},
    {"column": "WPS", "field": "wps_number", "type": "string"},
    {"column": "Weld", "field": "weld_reference", "type": "string"},
    {"column": "Current [A]", "field": "current_a", "type": "number"},
    {"column": "Voltage [V]", "field": "voltage_v", "type": "number"},
    {"column": "Arc [s]", "field": "arc_time_s", "type": "number"},
    {"column": "Length [mm]", "field": "length_mm", "type": "number"},
    {"column": "OK", "field": "vendor_ok", "type": "boolean"},
]
ONE_PASS = {**f.PASS, "seq": 1, "layer": "fill"}


async def shop(
    client: httpx.AsyncClient, admin: Headers, passes: list[dict[str, Any]], **weld: Any
) -> dict[str, Any]:
    """A qualified welder with a badge, an approved WPS, a work order with one weld, and a run
    template: what a run needs to be resolved."""
    wps = await approved_wps(
        client, admin, passes=passes, thickness_max=30, positions=["PA", "PC", "PF"]
    )
    person = await welder(client, admin)
    badge = f"B{person['id']:05}"
    patched = await client.patch(
        f"/api/v1/employees/{person['id']}", json={"badge": badge}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    order = await f.work_order(client, admin)
    made = await f.post(
        client,
        admin,
        f"/api/v1/workorders/{order['id']}/welds",
        f.weld_payload(wps_id=wps["id"], welder_id=person["id"], **weld),
    )
    machine = await f.machine(client, admin)
    template = await f.template(
        client, admin, machine["id"], mapping=MAPPING, timestamp_field="ts", min_arc_time_s=3
    )
    return {
        "wps": wps,
        "welder": person,
        "badge": badge,
        "order": order,
        "weld": made,
        "machine": machine,
        "template": template,
    }


def run(s: dict[str, Any], when: dt.datetime, current: float, **over: Any) -> list[Any]:
    values = {
        "badge": s["badge"],
        "wps": s["wps"]["number"],
        "weld": s["weld"]["reference"],
        "voltage": 25,
        "arc": 60,
        "length": 300,
        "ok": True,
        **over,
    }
    return [
        when,
        values["badge"],
        values["wps"],
        values["weld"],
        current,
        values["voltage"],
        values["arc"],
        values["length"],
        values["ok"],
    ]


async def send(
    client: httpx.AsyncClient,
    admin: Headers,
    template_id: int,
    data: list[list[Any]] | bytes,
    **params: Any,
) -> httpx.Response:
    content = data if isinstance(data, bytes) else files.xlsx(data, header=HEADER)
    return await client.post(
        f"/api/v1/templates/{template_id}/imports",
        files={"file": ("runs.xlsx", content, "application/octet-stream")},
        params={k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()},
        headers=admin,
    )


async def entries(client: httpx.AsyncClient, admin: Headers, **params: Any) -> list[dict[str, Any]]:
    page = await client.get(
        "/api/v1/workshop-entries", params={"limit": 500, **params}, headers=admin
    )
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


async def test_200_runs_with_3_over_the_current_range(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    s = await shop(client, admin, [{**ONE_PASS, "current_min": 180, "current_max": 260}])
    start = dt.datetime.combine(TODAY - timedelta(days=3), dt.time(6))
    high = {17, 101, 188}
    data = files.xlsx(  # one file, sent twice
        [
            run(s, start + timedelta(minutes=i), 265 if i in high else 200 + i % 50)
            for i in range(200)
        ],
        header=HEADER,
    )
    response = await send(client, admin, s["template"]["id"], data)
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["rows_imported"] == 200 and record["errors"] == []
    summary = record["conformance"]
    assert {k: summary[k] for k in ("runs", "pass", "fail", "not_checkable", "tacks")} == {
        "runs": 200,
        "pass": 197,
        "fail": 3,
        "not_checkable": 0,
        "tacks": 0,
    }

    failing = await entries(client, admin, verdict="fail")
    assert sorted(e["row_number"] - 2 for e in failing) == sorted(high)
    label = f"WPS {s['wps']['number']} rev {s['wps']['revision']}"
    for entry in failing:
        (reason,) = entry["reasons"]
        assert reason["text"] == f"current 265 A > 260 A ({label}, pass 1)"
        assert (reason["parameter"], reason["value"], reason["limit"], reason["unit"]) == (
            "current",
            265,
            260,
            "A",
        )
        assert entry["wps_id"] == s["wps"]["id"] and entry["weld_id"] == s["weld"]["id"]
        assert entry["welder_id"] == s["welder"]["id"] and entry["pass_seq"] == 1
        assert entry["vendor_ok"] is True  # the machine's own verdict, beside ours
    passing = await entries(
        client, admin, verdict="pass", welder_id=s["welder"]["id"], wps_id=s["wps"]["id"]
    )
    assert len(passing) == 197
    assert passing[0]["heat_input"] == pytest.approx(
        0.8 * 25 * passing[0]["data"]["current_a"] / 5 / 1000
    )
    assert await entries(client, admin, weld_id=s["weld"]["id"], verdict="not_checkable") == []

    for group_by, key in (
        ("wps", s["wps"]["id"]),
        ("welder", s["welder"]["id"]),
        ("machine", s["machine"]["id"]),
        ("work_order", s["order"]["id"]),
    ):
        board = await client.get(
            "/api/v1/dashboard/conformance", params={"group_by": group_by}, headers=admin
        )
        assert board.status_code == 200, board.text
        (group,) = [g for g in board.json()["groups"] if g["key"] == key]
        assert (group["runs"], group["in_range"], group["not_checkable"]) == (200, 197, 0)
        assert group["share_in_range"] == pytest.approx(0.985)
        assert group["top_failing_parameter"] == "current"
        assert group["label"]

    export = await client.get(
        "/api/v1/workshop-entries/export",
        params={"verdict": "fail", "format": "csv"},
        headers=admin,
    )
    assert export.status_code == 200, export.text
    table = list(csv.DictReader(io.StringIO(export.text)))
    assert len(table) == 3
    assert {row["reasons"] for row in table} == {f"current 265 A > 260 A ({label}, pass 1)"}

    # The work order's weld has runs: the order cannot go (its weld would take them along).
    gone = await client.delete(f"/api/v1/workorders/{s['order']['id']}", headers=admin)
    assert "workshop_entries" in str(assert_problem(gone, 409, "CONFLICT")["detail"])

    again = await send(client, admin, s["template"]["id"], data)
    assert_problem(again, 409, "CONFLICT")  # the same file: nothing added
    assert len(await entries(client, admin, welder_id=s["welder"]["id"])) == 200


async def test_the_worked_example_fails_on_heat_input(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    s = await shop(client, admin, [{**ONE_PASS, "heat_input_max": 0.9}])
    when = dt.datetime.combine(TODAY - timedelta(days=1), dt.time(9))
    response = await send(client, admin, s["template"]["id"], [run(s, when, 240)])
    assert response.status_code == 201, response.text
    (entry,) = await entries(client, admin, import_id=response.json()["id"])
    assert entry["verdict"] == "fail" and entry["heat_input"] == pytest.approx(0.96)
    (reason,) = entry["reasons"]
    assert reason["parameter"] == "heat_input" and reason["limit"] == 0.9
    assert reason["text"].startswith("heat input 0.96 kJ/mm > 0.9 kJ/mm")


async def test_a_run_by_a_welder_not_qualified_for_the_weld(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    s = await shop(client, admin, [{**ONE_PASS, "current_min": 180, "current_max": 260}])
    # A second weld the welder's cert (BW 135, s = 8, PF: 3-16 mm, PA PF) does not cover.
    thick = await client.post(
        f"/api/v1/workorders/{s['order']['id']}/welds",
        json=f.weld_payload(wps_id=s["wps"]["id"], thickness=20, position="PC"),
        headers=admin,
    )
    assert thick.status_code == 201, thick.text
    when = dt.datetime.combine(TODAY - timedelta(days=1), dt.time(9))
    # In one chunk: a run on the weld the cert covers, then one on the weld it does not.
    runs = [run(s, when, 220), run(s, when, 220, weld=thick.json()["reference"])]
    response = await send(client, admin, s["template"]["id"], runs)
    assert response.status_code == 201, response.text
    summary = response.json()["conformance"]
    assert (summary["runs"], summary["pass"], summary["fail"]) == (2, 1, 1)
    covered, entry = await entries(client, admin, import_id=response.json()["id"])
    assert covered["verdict"] == "pass" and covered["qualified"] is True
    assert entry["verdict"] == "fail" and entry["qualified"] is False
    board = await client.get(
        "/api/v1/dashboard/conformance", params={"group_by": "welder"}, headers=admin
    )
    (group,) = [g for g in board.json()["groups"] if g["key"] == s["welder"]["id"]]
    assert (group["runs"], group["in_range"]) == (2, 1)  # the totals count what is stored
    assert group["top_failing_parameter"] == "qualification"
    (reason,) = entry["reasons"]
    assert reason["parameter"] == "qualification"
    cert = s["welder"]["cert"]["certificate_number"]
    assert f"thickness 20 > 16 (cert {cert}, s = 8)" in reason["text"]
    assert "position PC not in PA PF" in reason["text"]


async def test_unresolved_parts_are_reported_never_dropped(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    s = await shop(client, admin, [{**ONE_PASS, "current_min": 180, "current_max": 260}])
    when = dt.datetime.combine(TODAY - timedelta(days=1), dt.time(9))
    data = [
        run(s, when, 220),
        run(s, when + timedelta(minutes=1), 220, badge="0457"),
        run(s, when + timedelta(minutes=2), 220, wps="WPS-NONE"),
        run(s, when + timedelta(minutes=3), 220, weld="W-NOWHERE"),
        run(s, when + timedelta(minutes=4), 220, arc=1.5),  # a tack: not judged
    ]
    refused = await send(client, admin, s["template"]["id"], data)
    problem = assert_problem(refused, 422, "IMPORT_ROWS_INVALID")
    messages = {(e["row"], e["field"], e["message"]) for e in problem["row_errors"]}  # type: ignore[union-attr]
    assert messages == {
        (3, "welder_badge", "badge 0457 unknown"),
        (4, "wps_number", "WPS WPS-NONE has no approved revision"),
        (5, "weld_reference", "weld W-NOWHERE unknown"),
    }

    kept = await send(client, admin, s["template"]["id"], data, on_error="skip")
    assert kept.status_code == 201, kept.text
    record = kept.json()
    assert record["rows_imported"] == 5 and record["rows_failed"] == 0
    assert {e["kind"] for e in record["errors"]} == {"unresolved"}
    assert record["conformance"]["unresolved"] == 3 and record["conformance"]["tacks"] == 1
    rows = {e["row_number"]: e for e in await entries(client, admin, import_id=record["id"])}
    assert rows[2]["verdict"] == "pass"
    assert rows[3]["welder_id"] is None and rows[3]["unresolved"] == ["badge 0457 unknown"]
    assert rows[4]["verdict"] == "not_checkable" and rows[4]["wps_id"] is None
    assert rows[6]["verdict"] is None and rows[6]["data"]["tack"] is True

    # The badge is put right on the employee; a re-check ties the run.
    await client.patch(
        f"/api/v1/employees/{s['welder']['id']}", json={"badge": "0457"}, headers=admin
    )
    rechecked = await client.post(f"/api/v1/imports/{record['id']}/recheck", headers=admin)
    assert rechecked.status_code == 200, rechecked.text
    assert rechecked.json()["conformance"]["unresolved"] == 3  # 0457 now, the old badge not
    rows = {e["row_number"]: e for e in await entries(client, admin, import_id=record["id"])}
    assert rows[3]["welder_id"] == s["welder"]["id"] and rows[3]["verdict"] == "pass"
    assert rows[2]["welder_id"] is None


async def test_a_wps_revision_and_a_recheck(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    s = await shop(client, admin, [{**ONE_PASS, "current_min": 180, "current_max": 260}])
    when = dt.datetime.combine(TODAY - timedelta(days=1), dt.time(9))
    response = await send(
        client, admin, s["template"]["id"], [run(s, when, 265), run(s, when, 250)]
    )
    record = response.json()
    assert record["conformance"]["fail"] == 1
    revision = await client.post(f"/api/v1/wps/{s['wps']['id']}/revise", headers=admin)
    assert revision.status_code == 201, revision.text
    draft = revision.json()
    passes = [{**ONE_PASS, "current_min": 180, "current_max": 280}]
    body = {k: draft[k] for k in f.wps_payload() if k in draft} | {"passes": passes}
    put = await client.put(f"/api/v1/wps/{draft['id']}", json=body, headers=admin)
    assert put.status_code == 200, put.text
    approve = await client.post(f"/api/v1/wps/{draft['id']}/approve", headers=admin)
    assert approve.status_code == 200, approve.text

    url = f"/api/v1/imports/{record['id']}/recheck"
    viewer = await make_key(Role.viewer)
    assert_problem(await client.post(url, headers=viewer), 403, "FORBIDDEN")
    assert_problem(
        await client.post("/api/v1/imports/987654/recheck", headers=admin), 404, "NOT_FOUND"
    )
    rechecked = await client.post(url, headers=admin)
    assert rechecked.status_code == 200, rechecked.text
    assert rechecked.json()["conformance"]["fail"] == 0
    assert rechecked.json()["conformance"]["checked_at"]
    rows = await entries(client, admin, import_id=record["id"])
    assert {e["wps_id"] for e in rows} == {draft["id"]} and {e["verdict"] for e in rows} == {"pass"}

    plain = await f.template(client, admin, s["machine"]["id"])
    other = await client.post(
        f"/api/v1/templates/{plain['id']}/imports",
        files={"file": ("x.xlsx", files.xlsx(files.rows(2)), "application/octet-stream")},
        headers=admin,
    )
    assert other.status_code == 201, other.text
    assert other.json()["conformance"] is None
    assert_problem(
        await client.post(f"/api/v1/imports/{other.json()['id']}/recheck", headers=admin),
        409,
        "CONFLICT",
    )


async def test_runs_are_evidence_for_the_asme_process_clock(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    s = await shop(client, admin, [{**ONE_PASS, "current_min": 180, "current_max": 260}])
    person = s["welder"]
    issued = TODAY - timedelta(days=330)
    cert = await f.post(
        client,
        admin,
        f"/api/v1/employees/{person['id']}/qualifications",
        f.qualification_payload(
            standard="ASME IX", issued_on=iso(issued), expires_on=iso(TODAY + timedelta(days=900))
        ),
    )

    async def clock() -> list[dict[str, Any]]:
        due = await client.get("/api/v1/qualifications/due", params={"days": 0}, headers=admin)
        assert due.status_code == 200, due.text
        found = [d for d in due.json() if d["qualification_id"] == cert["id"]]
        stats = (await client.get("/api/v1/dashboard/stats", headers=admin)).json()
        flagged = {a["qualification_id"]: a["reason"] for a in stats["qualification_alerts"]}
        assert (flagged.get(cert["id"]) == "process_clock") == bool(found)  # as the engine
        return found

    (lapsed,) = await clock()  # no welding since it was issued, 11 months ago
    assert lapsed["kind"] == "process_clock" and lapsed["last_evidence_on"] is None

    first = dt.datetime.combine(TODAY - timedelta(days=300), dt.time(8))
    earlier = await send(client, admin, s["template"]["id"], [run(s, first, 220)], on_error="skip")
    assert earlier.status_code == 201, earlier.text
    (still,) = await clock()  # a run 10 months ago: the clock ran out 4 months ago
    assert still["last_evidence_on"] == iso(first.date())

    five_months_on = dt.datetime.combine(TODAY - timedelta(days=150), dt.time(8))
    later = await send(client, admin, s["template"]["id"], [run(s, five_months_on, 220)])
    assert later.status_code == 201, later.text
    assert await clock() == []  # extended: six months from 150 days ago

    undone = await client.delete(f"/api/v1/imports/{later.json()['id']}", headers=admin)
    assert undone.status_code == 204, undone.text
    (back,) = await clock()  # its evidence went with it
    assert back["last_evidence_on"] == iso(first.date())
    assert back["last_evidence_entry_id"] is not None


async def test_a_large_import_is_rechecked_in_the_background(
    client: httpx.AsyncClient, admin: Headers, db: Database, settings: Settings
) -> None:
    s = await shop(client, admin, [{**ONE_PASS, "current_min": 180, "current_max": 260}])
    when = dt.datetime.combine(TODAY - timedelta(days=1), dt.time(9))
    response = await send(
        client, admin, s["template"]["id"], [run(s, when, 265), run(s, when, 250)]
    )
    record = response.json()
    assert record["conformance"]["checked_at"] is None
    app = create_app(settings.model_copy(update={"import_sync_max_rows": 1}), database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as small:
        url = f"/api/v1/imports/{record['id']}/recheck"
        first, second = await small.post(url, headers=admin), await small.post(url, headers=admin)
        assert first.status_code == second.status_code == 202, first.text
        assert first.headers["Location"].endswith(f"/api/v1/imports/{record['id']}")
        assert len(app.state.importer.rechecks) <= 1  # the second asked for the same work
        await app.state.importer.wait_idle()
    done = (await client.get(f"/api/v1/imports/{record['id']}", headers=admin)).json()
    assert done["conformance"]["checked_at"] is not None and done["conformance"]["fail"] == 1


async def test_runs_of_a_machine_whose_validation_had_lapsed(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    s = await shop(client, admin, [{**ONE_PASS, "current_min": 180, "current_max": 260}])
    machine = f"/api/v1/machines/{s['machine']['id']}"
    patched = await client.patch(machine, json={"validation_interval_days": 365}, headers=admin)
    assert patched.status_code == 200, patched.text
    when = dt.datetime.combine(TODAY - timedelta(days=2), dt.time(9))
    response = await send(
        client, admin, s["template"]["id"], [run(s, when, 220), run(s, when, 265)]
    )
    assert response.status_code == 201, response.text
    assert response.json()["conformance"]["not_checkable"] == 1  # the pass cannot stand
    in_range, over = await entries(client, admin, import_id=response.json()["id"])
    assert in_range["verdict"] == "not_checkable" and over["verdict"] == "fail"
    lapsed = f"the machine's validation (IEC 60974-14) had lapsed on {when.date()}"
    assert [r["text"] for r in in_range["reasons"]] == [lapsed]
    assert over["reasons"][-1]["parameter"] == "machine_validation"

    validated = await client.post(
        f"{machine}/validations",
        json={
            "validated_on": iso(TODAY - timedelta(days=30)),
            "result": "pass",
            "performed_by": "Fronius service",
        },
        headers=admin,
    )
    assert validated.status_code == 201, validated.text
    rechecked = await client.post(f"/api/v1/imports/{response.json()['id']}/recheck", headers=admin)
    assert rechecked.json()["conformance"]["pass"] == 1
    in_range, over = await entries(client, admin, import_id=response.json()["id"])
    assert in_range["verdict"] == "pass" and in_range["reasons"] == []
