"""The WPS register, welds and the qualification engine through the API, on every database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from app.auth.roles import Role
from tests import factories as f
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem

TODAY = datetime.now(UTC).date()


def iso(day: date) -> str:
    return day.isoformat()


async def approved_wps(client: httpx.AsyncClient, admin: Headers, **over: Any) -> dict[str, Any]:
    wps = await f.post(client, admin, "/api/v1/wps", f.wps_payload(**over))
    response = await client.post(f"/api/v1/wps/{wps['id']}/approve", headers=admin)
    assert response.status_code == 200, response.text
    approved: dict[str, Any] = response.json()
    return approved


async def welder(client: httpx.AsyncClient, admin: Headers, **piece: Any) -> dict[str, Any]:
    """A welder with one ISO 9606-1 qualification: BW 135, s = 8, PF unless told otherwise."""
    person = await f.employee(client, admin)
    payload = f.qualification_payload(
        **{
            "issued_on": iso(TODAY - timedelta(days=200)),
            "expires_on": iso(TODAY + timedelta(days=900)),
            "last_confirmed_on": iso(TODAY - timedelta(days=10)),
            **piece,
        }
    )
    cert = await f.post(client, admin, f"/api/v1/employees/{person['id']}/qualifications", payload)
    return {**person, "cert": cert}


# --- WPS -------------------------------------------------------------------------------------


async def test_wps_revisions_and_status_rules(client: httpx.AsyncClient, admin: Headers) -> None:
    draft = await f.post(client, admin, "/api/v1/wps", f.wps_payload(passes=[]))
    assert (draft["status"], draft["revision"], draft["passes"]) == ("draft", 0, [])
    url = f"/api/v1/wps/{draft['id']}"
    assert_problem(await client.post(f"{url}/approve", headers=admin), 409, "CONFLICT")  # no passes
    replaced = await client.put(url, json=f.wps_payload(number=draft["number"]), headers=admin)
    assert replaced.status_code == 200 and len(replaced.json()["passes"]) == 2
    approved = await client.post(f"{url}/approve", headers=admin)
    assert approved.json()["status"] == "approved" and approved.json()["approved_by"]

    # An approved WPS is not edited in place, nor deleted: it is revised.
    refused = assert_problem(
        await client.patch(url, json={"notes": "x"}, headers=admin), 409, "CONFLICT"
    )
    assert "revise" in str(refused["detail"])
    assert_problem(await client.delete(url, headers=admin), 409, "CONFLICT")
    revised = await client.post(f"{url}/revise", headers=admin)
    assert revised.status_code == 201, revised.text
    rev1 = revised.json()
    assert (rev1["revision"], rev1["status"], rev1["supersedes_id"]) == (1, "draft", draft["id"])
    assert rev1["passes"] == approved.json()["passes"]
    assert revised.headers["location"] == f"/api/v1/wps/{rev1['id']}"
    assert_problem(await client.post(f"{url}/revise", headers=admin), 409, "CONFLICT")
    assert_problem(
        await client.patch(f"/api/v1/wps/{rev1['id']}", json={"number": "X-1"}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    await client.post(f"/api/v1/wps/{rev1['id']}/approve", headers=admin)
    assert (await client.get(url, headers=admin)).json()["status"] == "superseded"
    listed = await client.get(
        "/api/v1/wps", params={"number": draft["number"], "status": "approved"}, headers=admin
    )
    assert [w["revision"] for w in listed.json()["items"]] == [1]


async def test_wps_filters_and_unique_number(client: httpx.AsyncClient, admin: Headers) -> None:
    a = await f.post(client, admin, "/api/v1/wps", f.wps_payload(material_groups=["1.1", "8.1"]))
    await f.post(
        client, admin, "/api/v1/wps", f.wps_payload(material_groups=["8.10"], process="141")
    )
    found = await client.get("/api/v1/wps", params={"material_group": "8.1"}, headers=admin)
    assert [w["id"] for w in found.json()["items"]] == [a["id"]]
    by_process = await client.get("/api/v1/wps", params={"process": "141"}, headers=admin)
    assert by_process.json()["total"] == 1
    clash = assert_problem(
        await client.post("/api/v1/wps", json=f.wps_payload(number=a["number"]), headers=admin),
        409,
        "CONFLICT",
    )
    assert clash["fields"] == ["number"]
    bad = f.wps_payload(thickness_min=20, thickness_max=3)
    assert_problem(
        await client.post("/api/v1/wps", json=bad, headers=admin), 422, "VALIDATION_ERROR"
    )
    twice = f.wps_payload(passes=[{"seq": 1, "layer": "root"}, {"seq": 1, "layer": "cap"}])
    assert_problem(
        await client.post("/api/v1/wps", json=twice, headers=admin), 422, "VALIDATION_ERROR"
    )


async def test_only_an_approved_wps_goes_on_new_work(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    draft = await f.post(client, admin, "/api/v1/wps", f.wps_payload())
    order = await f.work_order(client, admin, wps_number=draft["number"])
    welds = f"/api/v1/workorders/{order['id']}/welds"
    refused = assert_problem(
        await client.post(welds, json=f.weld_payload(wps_id=draft["id"]), headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    assert refused["errors"][0]["field"] == "wps_id"
    assert_problem(
        await client.patch(
            f"/api/v1/workorders/{order['id']}", json={"wps_id": draft["id"]}, headers=admin
        ),
        422,
        "VALIDATION_ERROR",
    )
    # Approving it links the work order that named it, and lets new work use it.
    await client.post(f"/api/v1/wps/{draft['id']}/approve", headers=admin)
    linked = await client.get(f"/api/v1/workorders/{order['id']}", headers=admin)
    assert linked.json()["wps_id"] == draft["id"]
    weld = await f.post(client, admin, welds, f.weld_payload(wps_id=draft["id"], process=None))
    assert weld["process"] == "135"  # the WPS's
    # The draft of a newer revision does not disturb the work already under this one.
    await client.post(f"/api/v1/wps/{draft['id']}/revise", headers=admin)
    again = await client.patch(f"/api/v1/welds/{weld['id']}", json={"length_mm": 5}, headers=admin)
    assert again.status_code == 200, again.text
    assert_problem(
        await client.delete(f"/api/v1/wps/{draft['id']}", headers=admin), 409, "CONFLICT"
    )


# --- the engine ------------------------------------------------------------------------------


async def test_the_worked_examples_through_the_api(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    ana = await welder(client, admin)
    ranges = ana["cert"]["ranges"]
    assert (ranges["thickness_min"], ranges["thickness_max"]) == (3, 16)
    assert ranges["positions"] == ["PA", "PF"] and "Table 6" in ranges["clauses"]["thickness"]
    url = f"/api/v1/employees/{ana['id']}/qualified"
    refused = (
        await client.get(
            url,
            params={"process": "135", "joint": "BW", "thickness": 20, "position": "PC"},
            headers=admin,
        )
    ).json()
    assert refused["qualified"] is False
    reasons = {c["variable"]: c["reason"] for c in refused["checks"] if not c["covered"]}
    cert = ana["cert"]["certificate_number"]
    assert reasons == {
        "thickness": f"thickness 20 > 16 (cert {cert}, s = 8)",
        "position": f"position PC not in PA PF (cert {cert})",
    }
    covered = (
        await client.get(
            url,
            params={"process": "138", "joint": "BW", "thickness": 10, "position": "PA"},
            headers=admin,
        )
    ).json()
    assert covered["qualified"] is True and covered["qualification_id"] == ana["cert"]["id"]
    assert all(c["covered"] for c in covered["checks"])
    later = iso(TODAY + timedelta(days=400))  # past the 6-month confirmation
    lapsed = await client.get(
        url,
        params={"process": "138", "joint": "BW", "thickness": 10, "position": "PA", "on": later},
        headers=admin,
    )
    assert lapsed.json()["qualified"] is False
    assert [v["kind"] for v in lapsed.json()["validity"]] == ["confirmation_due"]


async def test_qualified_asks_for_a_weld_or_its_variables(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    ana = await welder(client, admin)
    url = f"/api/v1/employees/{ana['id']}/qualified"
    assert_problem(await client.get(url, headers=admin), 422, "VALIDATION_ERROR")
    assert_problem(
        await client.get(url, params={"weld_id": 1, "process": "135"}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    assert_problem(
        await client.get(url, params={"weld_id": 987654}, headers=admin), 404, "NOT_FOUND"
    )
    assert_problem(
        await client.get(
            "/api/v1/employees/987654/qualified",
            params={"process": "135", "joint": "BW", "thickness": 8, "position": "PA"},
            headers=admin,
        ),
        404,
        "NOT_FOUND",
    )
    order = await f.work_order(client, admin)
    weld = await f.post(
        client, admin, f"/api/v1/workorders/{order['id']}/welds", f.weld_payload(thickness=8)
    )
    answer = await client.get(url, params={"weld_id": weld["id"]}, headers=admin)
    assert answer.json()["qualified"] is True


async def test_a_test_piece_the_tables_cannot_read_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    person = await f.employee(client, admin)
    url = f"/api/v1/employees/{person['id']}/qualifications"
    half = f.qualification_payload(test_position=None)
    assert_problem(await client.post(url, json=half, headers=admin), 422, "VALIDATION_ERROR")
    pipe = f.qualification_payload(product="T")
    assert_problem(await client.post(url, json=pipe, headers=admin), 422, "VALIDATION_ERROR")
    fillet_position = f.qualification_payload(test_position="PB")  # a BW test cannot be in PB
    body = assert_problem(
        await client.post(url, json=fillet_position, headers=admin), 422, "VALIDATION_ERROR"
    )
    assert body["errors"][0]["field"] == "test_position"
    legacy = await f.post(
        client,
        admin,
        url,
        f.qualification_payload(product=None, joint=None, test_thickness=None, test_position=None),
    )
    assert legacy["ranges"] is None
    answer = await client.get(
        f"/api/v1/employees/{person['id']}/qualified",
        params={"process": "135", "joint": "BW", "thickness": 8, "position": "PA"},
        headers=admin,
    )
    assert "no test piece recorded" in str(answer.json()["checks"])


# --- welds and the gate ------------------------------------------------------------------------


async def test_assignment_is_gated_and_a_manager_may_override(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    manager, operator = await make_key(Role.manager), await make_key(Role.operator)
    ana = await welder(client, admin)
    wps = await approved_wps(client, admin, thickness_max=40, positions=["PA", "PC", "PF"])
    order = await f.work_order(client, admin)
    welds = f"/api/v1/workorders/{order['id']}/welds"
    thick = f.weld_payload(wps_id=wps["id"], thickness=20, position="PC", welder_id=ana["id"])

    refused = assert_problem(
        await client.post(welds, json=thick, headers=manager), 422, "WELDER_NOT_QUALIFIED"
    )
    failed = [c["variable"] for c in refused["qualification"]["checks"] if not c["covered"]]
    assert failed == ["thickness", "position"]
    assert (await client.get(welds, headers=admin)).json()["total"] == 0

    reason = "Retest booked; the coordinator supervises this joint"
    created = await client.post(welds, json={**thick, "override_reason": reason}, headers=manager)
    assert created.status_code == 201, created.text
    weld = created.json()
    assert weld["override"]["reason"] == reason and weld["override"]["by"].startswith("api_key:")
    stats = (await client.get("/api/v1/dashboard/stats", headers=admin)).json()
    assert [o["id"] for o in stats["assignment_overrides"]] == [weld["id"]]
    listed = await client.get(welds, params={"overridden": "true"}, headers=admin)
    assert listed.json()["total"] == 1

    url = f"/api/v1/welds/{weld['id']}"
    # Operators move the weld along, but may neither assign nor override.
    assert (
        await client.patch(url, json={"status": "in_progress"}, headers=operator)
    ).status_code == 200
    assert_problem(
        await client.patch(
            url, json={"welder_id": ana["id"], "override_reason": reason}, headers=operator
        ),
        403,
        "FORBIDDEN",
    )
    assert_problem(await client.post(welds, json=thick, headers=operator), 403, "FORBIDDEN")

    # A change the engine accepts clears the override.
    fixed = await client.patch(url, json={"thickness": 10, "position": "PA"}, headers=manager)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["override"] is None
    # ... and one it refuses is refused again, without a new reason.
    assert_problem(
        await client.patch(url, json={"thickness": 30}, headers=manager),
        422,
        "WELDER_NOT_QUALIFIED",
    )
    clash = assert_problem(
        await client.post(welds, json=f.weld_payload(reference=weld["reference"]), headers=admin),
        409,
        "CONFLICT",
    )
    assert clash["fields"] == ["reference"]


async def test_eligible_welders_best_covered_first(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    vertical = await welder(client, admin)  # 3-16 mm, PA PF
    flat = await welder(client, admin, test_position="PA", test_thickness=12)  # >= 3 mm, PA
    order = await f.work_order(client, admin)
    weld = await f.post(
        client,
        admin,
        f"/api/v1/workorders/{order['id']}/welds",
        f.weld_payload(thickness=10, position="PF"),
    )
    ranked = (
        await client.get(f"/api/v1/welds/{weld['id']}/eligible-welders", headers=admin)
    ).json()
    assert [(r["employee_id"], r["qualified"]) for r in ranked] == [
        (vertical["id"], True),
        (flat["id"], False),
    ]
    assert_problem(
        await client.get("/api/v1/welds/987654/eligible-welders", headers=admin), 404, "NOT_FOUND"
    )


async def test_an_inspection_of_a_registered_weld(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    order, other = await f.work_order(client, admin), await f.work_order(client, admin)
    weld = await f.post(client, admin, f"/api/v1/workorders/{order['id']}/welds", f.weld_payload())
    made = await f.post(
        client,
        admin,
        "/api/v1/inspections",
        f.inspection_payload(weld_id=weld["id"], weld_reference=None),
    )
    assert (made["work_order_id"], made["weld_reference"]) == (order["id"], weld["reference"])
    renamed = assert_problem(
        await client.patch(
            f"/api/v1/welds/{weld['id']}", json={"reference": "W-NEW"}, headers=admin
        ),
        409,
        "CONFLICT",
    )
    assert renamed["fields"] == ["reference"]
    assert_problem(
        await client.post(
            "/api/v1/inspections",
            json=f.inspection_payload(
                weld_id=weld["id"], work_order_id=other["id"], weld_reference=None
            ),
            headers=admin,
        ),
        422,
        "VALIDATION_ERROR",
    )
    # Deleting the weld leaves the inspection with its reference.
    assert (await client.delete(f"/api/v1/welds/{weld['id']}", headers=admin)).status_code == 204
    kept = (await client.get(f"/api/v1/inspections/{made['id']}", headers=admin)).json()
    assert (kept["weld_id"], kept["weld_reference"]) == (None, weld["reference"])


# --- validity ----------------------------------------------------------------------------------


async def test_confirmation_and_what_is_due(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    ana = await welder(client, admin)
    stale = await welder(
        client, admin, last_confirmed_on=iso(TODAY - timedelta(days=170)), process="141"
    )
    asme = await welder(
        client,
        admin,
        standard="ASME IX",
        last_confirmed_on=None,
        issued_on=iso(TODAY - timedelta(days=100)),
    )
    due = (
        await client.get("/api/v1/qualifications/due", params={"days": 30}, headers=admin)
    ).json()
    assert {(d["qualification_id"], d["kind"]) for d in due} == {
        (stale["cert"]["id"], "confirmation_due")
    }
    assert due[0]["employee_id"] == stale["id"] and due[0]["employee_name"]
    later = (
        await client.get("/api/v1/qualifications/due", params={"days": 120}, headers=admin)
    ).json()
    assert (asme["cert"]["id"], "process_clock") in {
        (d["qualification_id"], d["kind"]) for d in later
    }

    url = f"/api/v1/qualifications/{stale['cert']['id']}/confirm"
    viewer = await make_key(Role.viewer)
    assert_problem(await client.post(url, json={}, headers=viewer), 403, "FORBIDDEN")
    early = iso(TODAY - timedelta(days=1000))
    assert_problem(
        await client.post(url, json={"confirmed_on": early}, headers=admin), 422, "VALIDATION_ERROR"
    )
    confirmed = await client.post(url, json={"evidence": "WO-2026-0012 welds"}, headers=admin)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["last_confirmed_on"] == iso(TODAY)
    due = (
        await client.get("/api/v1/qualifications/due", params={"days": 30}, headers=admin)
    ).json()
    assert due == []
    clock = await client.post(
        f"/api/v1/qualifications/{asme['cert']['id']}/confirm", json={}, headers=admin
    )
    assert clock.json()["last_welded_on"] == iso(TODAY)
    assert_problem(
        await client.post("/api/v1/qualifications/987654/confirm", json={}, headers=admin),
        404,
        "NOT_FOUND",
    )
    del ana


async def test_changing_a_welds_wps_goes_through_the_gate(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    ana = await welder(client, admin)  # 135 BW, s = 8, PF, group 1.1
    mag = await approved_wps(client, admin)
    tig = await approved_wps(client, admin, process="141")
    order = await f.work_order(client, admin)
    weld = await f.post(
        client,
        admin,
        f"/api/v1/workorders/{order['id']}/welds",
        f.weld_payload(wps_id=mag["id"], process=None, material_group="1.1", welder_id=ana["id"]),
    )
    assert weld["process"] == "135"
    moved = assert_problem(
        await client.patch(
            f"/api/v1/welds/{weld['id']}", json={"wps_id": tig["id"]}, headers=admin
        ),
        422,
        "WELDER_NOT_QUALIFIED",
    )
    assert "process 141 not in 135 138" in str(moved["detail"])


async def test_gaps_the_engine_does_not_pass_over(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    variables = {"process": "135", "joint": "BW", "thickness": 8, "position": "PA"}
    ana = await welder(client, admin)
    url = f"/api/v1/employees/{ana['id']}/qualified"
    other_group = await client.get(
        url, params={**variables, "material_group": "8.1"}, headers=admin
    )
    assert other_group.json()["qualified"] is False
    no_group = await welder(client, admin, material_group=None)
    answer = await client.get(
        f"/api/v1/employees/{no_group['id']}/qualified",
        params={**variables, "material_group": "1.1"},
        headers=admin,
    )
    assert "none recorded on cert" in str(answer.json()["checks"])
    spray = await welder(client, admin, transfer_mode="spray")
    unknown = await client.get(
        f"/api/v1/employees/{spray['id']}/qualified", params=variables, headers=admin
    )
    assert unknown.json()["qualified"] is False
    assert "transfer mode of the weld not recorded" in str(unknown.json()["checks"])
    pipe = await welder(client, admin, product="T", test_diameter=60, test_position="PH")
    in_ph = await client.get(
        f"/api/v1/employees/{pipe['id']}/qualified",
        params={**variables, "position": "PH", "diameter": 60},
        headers=admin,
    )
    assert in_ph.json()["qualified"] is True  # a test position covers itself
    await client.patch(f"/api/v1/employees/{ana['id']}", json={"active": False}, headers=admin)
    inactive = await client.get(url, params=variables, headers=admin)
    assert inactive.json()["qualified"] is False
    assert "not active" in str(inactive.json()["checks"])


async def test_no_confirmation_from_the_future_and_no_revision_of_a_superseded_wps(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    ana = await welder(client, admin)
    confirm = f"/api/v1/qualifications/{ana['cert']['id']}/confirm"
    later = iso(TODAY + timedelta(days=30))
    assert_problem(
        await client.post(confirm, json={"confirmed_on": later}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    quals = f"/api/v1/employees/{ana['id']}/qualifications/{ana['cert']['id']}"
    assert_problem(
        await client.patch(quals, json={"last_confirmed_on": later}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    rev0 = await approved_wps(client, admin)
    rev1 = (await client.post(f"/api/v1/wps/{rev0['id']}/revise", headers=admin)).json()
    await client.post(f"/api/v1/wps/{rev1['id']}/approve", headers=admin)
    assert_problem(
        await client.post(f"/api/v1/wps/{rev0['id']}/revise", headers=admin), 409, "CONFLICT"
    )


async def test_the_dashboard_counts_six_months_as_the_engine_does(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    from app.qualifications.engine import add_months

    today = date.today()
    edge = add_months(today, -6)  # confirmed then: valid up to and including today
    on_edge = await welder(
        client, admin, issued_on=iso(edge - timedelta(days=30)), last_confirmed_on=iso(edge)
    )
    late = await welder(
        client,
        admin,
        issued_on=iso(edge - timedelta(days=30)),
        last_confirmed_on=iso(edge - timedelta(days=1)),
    )
    stats = (await client.get("/api/v1/dashboard/stats", headers=admin)).json()
    flagged = {a["qualification_id"]: a["reason"] for a in stats["qualification_alerts"]}
    assert on_edge["cert"]["id"] not in flagged
    assert flagged[late["cert"]["id"]] == "continuity_overdue"
    engine = await client.get(
        f"/api/v1/employees/{on_edge['id']}/qualified",
        params={
            "process": "135",
            "joint": "BW",
            "thickness": 8,
            "position": "PA",
            "on": iso(today),
        },
        headers=admin,
    )
    assert engine.json()["validity"] == []


async def test_a_weld_lies_within_its_wps(client: httpx.AsyncClient, admin: Headers) -> None:
    wps = await approved_wps(client, admin)  # 135 BW, 3-16 mm, PA PF, group 1.1, plate
    order = await f.work_order(client, admin)
    welds = f"/api/v1/workorders/{order['id']}/welds"
    outside = f.weld_payload(
        wps_id=wps["id"],
        process="111",
        joint="FW",
        thickness=30,
        position="PC",
        material_group="8.1",
        diameter=None,
    )
    body = assert_problem(
        await client.post(welds, json=outside, headers=admin), 422, "VALIDATION_ERROR"
    )
    assert {e["field"] for e in body["errors"]} == {
        "process",
        "joint",
        "thickness",
        "position",
        "material_group",
    }
    inside = await f.post(client, admin, welds, f.weld_payload(wps_id=wps["id"], process=None))
    assert_problem(
        await client.patch(f"/api/v1/welds/{inside['id']}", json={"thickness": 17}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
