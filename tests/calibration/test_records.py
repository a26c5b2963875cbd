"""Calibration records of equipment and validation records of machines: the history, the
owner's derived fields kept in step, who may do what, the dashboards read from the history,
and the lapse check the conformance of weld runs asks (ADR 0031)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.auth.roles import Role
from app.core.db import Database
from app.machines.validation import lapsed_days
from app.models import AuditEvent
from tests import factories as f
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem

TODAY = datetime.now(UTC).date()


def ago(days: int) -> str:
    return str(TODAY - timedelta(days=days))


async def equipment(client: httpx.AsyncClient, admin: Headers, **over: Any) -> dict[str, Any]:
    return await f.post(
        client,
        admin,
        "/api/v1/equipment",
        f.equipment_payload(**{"type": "gauge", "calibration_interval_days": 180, **over}),
    )


async def calibrate(
    client: httpx.AsyncClient, headers: Headers, equipment_id: int, **body: Any
) -> dict[str, Any]:
    url = f"/api/v1/equipment/{equipment_id}/calibrations"
    return await f.post(client, headers, url, {"result": "pass", **body})


async def read(client: httpx.AsyncClient, headers: Headers, url: str) -> dict[str, Any]:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- calibrations -----------------------------------------------------------------------------


async def test_calibrations_are_a_history_the_equipment_follows(
    client: httpx.AsyncClient, admin: Headers, viewer: Headers
) -> None:
    gauge = await equipment(client, admin)
    url = f"/api/v1/equipment/{gauge['id']}"
    assert gauge["last_calibration_date"] is None and gauge["next_calibration_due"] is None

    first = await calibrate(
        client,
        admin,
        gauge["id"],
        calibrated_on=ago(400),
        performed_by="Kalibra d.o.o.",
        certificate_number="K-2025-114",
        notes="as found in tolerance",
    )
    assert first["equipment_id"] == gauge["id"] and first["result"] == "pass"
    assert first["next_due"] == ago(220)  # + 180 days
    assert first["performed_by"] == "Kalibra d.o.o." and first["version"] == 1
    adjusted = await calibrate(client, admin, gauge["id"], calibrated_on=ago(10), result="adjusted")
    assert adjusted["next_due"] == str(TODAY + timedelta(days=170))
    # Recorded later, dated earlier: the latest by date still wins.
    await calibrate(client, admin, gauge["id"], calibrated_on=ago(200), result="fail")

    now = await read(client, viewer, url)
    assert now["last_calibration_date"] == ago(10)
    assert now["next_calibration_due"] == str(TODAY + timedelta(days=170))

    history = await read(client, viewer, f"{url}/calibrations")
    assert [(c["calibrated_on"], c["result"]) for c in history["items"]] == [
        (ago(10), "adjusted"),
        (ago(200), "fail"),
        (ago(400), "pass"),
    ]
    assert history["total"] == 3
    oldest_first = await client.get(
        f"{url}/calibrations", params={"order": "asc", "sort_by": "id"}, headers=viewer
    )
    assert [c["calibrated_on"] for c in oldest_first.json()["items"]] == [
        ago(400),
        ago(10),
        ago(200),
    ]

    one = await client.get(f"{url}/calibrations/{first['id']}", headers=viewer)
    assert one.status_code == 200 and one.headers["etag"] == '"1"'
    assert one.json() == first

    # Deleting the latest falls back to the one before: a fail, due on its own day.
    deleted = await client.delete(f"{url}/calibrations/{adjusted['id']}", headers=admin)
    assert deleted.status_code == 204
    now = await read(client, viewer, url)
    assert (now["last_calibration_date"], now["next_calibration_due"]) == (ago(200), ago(200))
    # Changing the interval moves the due date of a pass, as it always did.
    fail = (await read(client, viewer, f"{url}/calibrations"))["items"][0]
    await client.delete(f"{url}/calibrations/{fail['id']}", headers=admin)
    moved = await client.patch(url, json={"calibration_interval_days": 365}, headers=admin)
    assert moved.json()["next_calibration_due"] == str(TODAY - timedelta(days=35))
    # The record keeps the due date it gave when it was made.
    assert (await read(client, viewer, f"{url}/calibrations/{first['id']}"))["next_due"] == ago(220)
    # Without any record left, nothing is on file.
    await client.delete(f"{url}/calibrations/{first['id']}", headers=admin)
    now = await read(client, viewer, url)
    assert (now["last_calibration_date"], now["next_calibration_due"]) == (None, None)
    assert (await read(client, viewer, f"{url}/calibrations"))["items"] == []


async def test_a_fail_is_due_at_once_and_no_interval_no_due_date(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    gauge = await equipment(client, admin)
    failed = await calibrate(client, admin, gauge["id"], calibrated_on=ago(3), result="fail")
    assert failed["next_due"] == ago(3)
    oven = await equipment(client, admin, calibration_interval_days=None)
    passed = await calibrate(client, admin, oven["id"], calibrated_on=ago(3))
    assert passed["next_due"] is None
    stored = await read(client, admin, f"/api/v1/equipment/{oven['id']}")
    assert (stored["last_calibration_date"], stored["next_calibration_due"]) == (ago(3), None)


async def test_the_equipment_fields_written_directly(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """A `last_calibration_date` sent with the equipment is recorded as a passing calibration;
    once there is a history, the two fields are the history's."""
    gauge = await equipment(client, admin, last_calibration_date=ago(30))
    url = f"/api/v1/equipment/{gauge['id']}"
    assert gauge["next_calibration_due"] == str(TODAY + timedelta(days=150))
    history = (await read(client, admin, f"{url}/calibrations"))["items"]
    assert [(c["calibrated_on"], c["result"], c["performed_by"]) for c in history] == [
        (ago(30), "pass", None)
    ]
    assert history[0]["next_due"] == gauge["next_calibration_due"]

    echoed = {k: gauge[k] for k in f.equipment_payload() | {"calibration_interval_days": 1}}
    echoed |= {"last_calibration_date": gauge["last_calibration_date"]}
    put = await client.put(url, json=echoed, headers=admin)
    assert put.status_code == 200, put.text
    assert len((await read(client, admin, f"{url}/calibrations"))["items"]) == 1  # same day
    # Left out or sent as null: the history's values stay.
    cleared = await client.patch(
        url,
        json={"last_calibration_date": None, "next_calibration_due": "2030-01-01"},
        headers=admin,
    )
    assert cleared.json()["last_calibration_date"] == ago(30)
    assert cleared.json()["next_calibration_due"] == str(TODAY + timedelta(days=150))
    newer = await client.patch(url, json={"last_calibration_date": ago(2)}, headers=admin)
    assert newer.json()["next_calibration_due"] == str(TODAY + timedelta(days=178))
    assert len((await read(client, admin, f"{url}/calibrations"))["items"]) == 2
    future = await client.patch(
        url, json={"last_calibration_date": str(TODAY + timedelta(days=1))}, headers=admin
    )
    assert_problem(future, 422, "VALIDATION_ERROR")


async def test_calibration_errors(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    gauge = await equipment(client, admin)
    other = await equipment(client, admin)
    record = await calibrate(client, admin, gauge["id"], calibrated_on=ago(1))
    url = f"/api/v1/equipment/{gauge['id']}/calibrations"
    for body in (
        {"calibrated_on": ago(1), "result": "ok"},
        {"calibrated_on": str(TODAY + timedelta(days=1)), "result": "pass"},
        {"result": "pass"},
        {"calibrated_on": ago(1)},
        {"calibrated_on": ago(1), "result": "pass", "next_due": "2030-01-01"},
        {"calibrated_on": ago(1), "result": "pass", "equipment_id": other["id"]},
        {"calibrated_on": ago(1), "result": "pass", "performed_by": "x" * 201},
    ):
        assert_problem(await client.post(url, json=body, headers=admin), 422, "VALIDATION_ERROR")
    today = await calibrate(client, admin, gauge["id"], calibrated_on=str(TODAY))
    assert today["calibrated_on"] == str(TODAY)

    missing = "/api/v1/equipment/987654/calibrations"
    assert_problem(await client.get(missing, headers=admin), 404, "NOT_FOUND")
    assert_problem(
        await client.post(missing, json={"calibrated_on": ago(1), "result": "pass"}, headers=admin),
        404,
        "NOT_FOUND",
    )
    for method in ("GET", "DELETE"):
        for path in (
            f"{url}/987654",
            f"/api/v1/equipment/{other['id']}/calibrations/{record['id']}",
            f"/api/v1/equipment/987654/calibrations/{record['id']}",
        ):
            assert_problem(await client.request(method, path, headers=admin), 404, "NOT_FOUND")
    stale = {**admin, "If-Match": '"7"'}
    assert_problem(
        await client.delete(f"{url}/{record['id']}", headers=stale), 412, "PRECONDITION_FAILED"
    )
    elsewhere = f"/api/v1/equipment/{other['id']}/calibrations/{record['id']}"
    assert_problem(await client.delete(elsewhere, headers=stale), 404, "NOT_FOUND")
    for method in ("PUT", "PATCH"):
        assert (
            await client.request(method, f"{url}/{record['id']}", json={}, headers=admin)
        ).status_code == 405

    for role in (Role.viewer, Role.operator):
        headers = await make_key(role)
        assert (await client.get(url, headers=headers)).status_code == 200
        assert (await client.get(f"{url}/{record['id']}", headers=headers)).status_code == 200
        body = {"calibrated_on": ago(1), "result": "pass"}
        assert_problem(await client.post(url, json=body, headers=headers), 403, "FORBIDDEN")
        denied = await client.delete(f"{url}/{record['id']}", headers=headers)
        assert_problem(denied, 403, "FORBIDDEN")
    manager = await make_key(Role.manager)
    await calibrate(client, manager, gauge["id"], calibrated_on=ago(5))
    assert (await client.delete(f"{url}/{record['id']}", headers=manager)).status_code == 204


async def test_calibrations_go_with_their_equipment_and_are_audited(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    gauge = await equipment(client, admin)
    record = await calibrate(client, admin, gauge["id"], calibrated_on=ago(1))
    url = f"/api/v1/equipment/{gauge['id']}"
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert_problem(await client.get(f"{url}/calibrations", headers=admin), 404, "NOT_FOUND")
    events = await db.run(
        lambda s: s.scalars(
            select(AuditEvent).where(AuditEvent.resource == "calibrations").order_by(AuditEvent.id)
        ),
        write=False,
    )
    created = list(events)
    assert [(e.action, e.resource_id) for e in created] == [("create", str(record["id"]))]
    assert created[0].changes["result"] == [None, "pass"]
    assert created[0].changes["equipment_id"] == [None, gauge["id"]]


# --- validations --------------------------------------------------------------------------


async def test_machine_validations(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    machine = await f.machine(client, admin, validation_interval_days=365)
    url = f"/api/v1/machines/{machine['id']}"
    assert (machine["validation_interval_days"], machine["last_validated_on"]) == (365, None)
    assert machine["validation_due"] is None
    validations = f"{url}/validations"
    first = await f.post(
        client,
        admin,
        validations,
        {"validated_on": ago(300), "result": "pass", "performed_by": "Fronius service"},
    )
    assert first["machine_id"] == machine["id"] and first["next_due"] == str(
        TODAY + timedelta(days=65)
    )
    now = await read(client, admin, url)
    assert (now["last_validated_on"], now["validation_due"]) == (
        ago(300),
        str(TODAY + timedelta(days=65)),
    )
    shorter = await client.patch(url, json={"validation_interval_days": 200}, headers=admin)
    assert shorter.json()["validation_due"] == ago(100)
    failed = await f.post(client, admin, validations, {"validated_on": ago(1), "result": "fail"})
    assert failed["next_due"] == ago(1)
    assert (await read(client, admin, url))["validation_due"] == ago(1)
    listed = await read(client, admin, validations)
    assert [v["id"] for v in listed["items"]] == [failed["id"], first["id"]]
    assert (await read(client, admin, f"{validations}/{first['id']}"))["result"] == "pass"
    assert (await client.delete(f"{validations}/{failed['id']}", headers=admin)).status_code == 204
    assert (await read(client, admin, url))["validation_due"] == ago(100)

    other = await f.machine(client, admin)
    assert_problem(
        await client.get(
            f"/api/v1/machines/{other['id']}/validations/{first['id']}", headers=admin
        ),
        404,
        "NOT_FOUND",
    )
    assert_problem(
        await client.post(
            validations, json={"validated_on": ago(1), "result": "bad"}, headers=admin
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert_problem(
        await client.post(
            validations,
            json={"validated_on": str(TODAY + timedelta(days=1)), "result": "pass"},
            headers=admin,
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert_problem(
        await client.patch(url, json={"validation_interval_days": 0}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    assert_problem(
        await client.patch(url, json={"validation_due": "2030-01-01"}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    assert_problem(
        await client.get("/api/v1/machines/987654/validations", headers=admin), 404, "NOT_FOUND"
    )
    operator = await make_key(Role.operator)
    assert (await client.get(validations, headers=operator)).status_code == 200
    assert_problem(
        await client.post(
            validations, json={"validated_on": ago(1), "result": "pass"}, headers=operator
        ),
        403,
        "FORBIDDEN",
    )
    # A machine's validations go with it.
    assert (await client.delete(url, headers=admin)).status_code == 204


# --- dashboards ---------------------------------------------------------------------------


async def test_dashboard_alerts_follow_the_history(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    gauge = await equipment(client, admin, code="GAUGE-1")
    await calibrate(client, admin, gauge["id"], calibrated_on=ago(200))  # due 20 days ago
    board = await read(client, admin, "/api/v1/dashboard/equipment")
    assert [(c["code"], c["days_left"]) for c in board["calibration_overdue"]] == [("GAUGE-1", -20)]
    stats = await read(client, admin, "/api/v1/dashboard/stats")
    assert stats["equipment"]["calibration_due"] == 1

    await calibrate(client, admin, gauge["id"], calibrated_on=ago(1))  # due in 179 days
    board = await read(client, admin, "/api/v1/dashboard/equipment")
    assert board["calibration_overdue"] == [] and board["calibration_due_soon"] == []
    stats = await read(client, admin, "/api/v1/dashboard/stats")
    assert stats["equipment"]["calibration_due"] == 0
    board = await read(client, admin, "/api/v1/dashboard/equipment?days=200")
    assert [(c["code"], c["days_left"]) for c in board["calibration_due_soon"]] == [
        ("GAUGE-1", 179)
    ]


async def test_dashboard_lists_machines_due_for_validation(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    never = await f.machine(client, admin, code="NEVER", validation_interval_days=365)
    lapsed = await f.machine(client, admin, code="LAPSED", validation_interval_days=100)
    soon = await f.machine(client, admin, code="SOON", validation_interval_days=100)
    fine = await f.machine(client, admin, code="FINE", validation_interval_days=365)
    await f.machine(client, admin, code="FREE")  # requires no validation
    await f.machine(client, admin, code="GONE", validation_interval_days=30, status="retired")
    for machine, day in ((lapsed, 110), (soon, 90), (fine, 10)):
        await f.post(
            client,
            admin,
            f"/api/v1/machines/{machine['id']}/validations",
            {"validated_on": ago(day), "result": "pass"},
        )
    board = await read(client, admin, "/api/v1/dashboard/equipment")
    assert [(v["code"], v["days_left"]) for v in board["validation_overdue"]] == [
        ("NEVER", None),
        ("LAPSED", -10),
    ]
    assert board["validation_overdue"][0]["validation_due"] is None
    assert [
        (v["code"], v["days_left"], v["last_validated_on"]) for v in board["validation_due_soon"]
    ] == [("SOON", 10, ago(90))]
    assert (await read(client, admin, "/api/v1/dashboard/stats"))["equipment"][
        "validation_due"
    ] == 3
    one = await read(client, admin, f"/api/v1/dashboard/equipment?machine_id={soon['id']}")
    assert [v["code"] for v in one["validation_due_soon"]] == ["SOON"]
    assert one["validation_overdue"] == []
    assert never["validation_due"] is None


# --- the lapse check ------------------------------------------------------------------------


async def test_lapsed_days_on_the_boundaries(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    machine = await f.machine(client, admin, validation_interval_days=10)
    url = f"/api/v1/machines/{machine['id']}/validations"
    day = TODAY - timedelta(days=100)
    for offset, result in ((0, "pass"), (30, "adjusted"), (50, "fail"), (55, "pass")):
        body = {"validated_on": str(day + timedelta(days=offset)), "result": result}
        await f.post(client, admin, url, body)

    lapsed = await db.run(lambda s: lapsed_days(s, machine["id"]), write=False)
    expected = {
        -1: True,  # before the first validation
        0: False,  # its day
        10: False,  # the last day it covers
        11: True,
        29: True,
        30: False,  # adjusted counts
        40: False,
        41: True,
        50: True,  # a fail lapses from its own day
        54: True,
        55: False,
        65: False,
        66: True,
    }
    assert {k: lapsed(day + timedelta(days=k)) for k in expected} == expected

    free = await f.machine(client, admin)
    never = await db.run(lambda s: lapsed_days(s, free["id"]), write=False)
    assert not never(day) and not never(TODAY)
    unknown = await db.run(lambda s: lapsed_days(s, 987654), write=False)
    assert not unknown(TODAY)
    required = await f.machine(client, admin, validation_interval_days=30)
    unvalidated = await db.run(lambda s: lapsed_days(s, required["id"]), write=False)
    assert unvalidated(TODAY)


@pytest.mark.parametrize("result", ["pass", "adjusted"])
async def test_lapsed_today_agrees_with_the_due_date(
    client: httpx.AsyncClient, admin: Headers, db: Database, result: str
) -> None:
    machine = await f.machine(client, admin, validation_interval_days=30)
    url = f"/api/v1/machines/{machine['id']}"
    await f.post(client, admin, f"{url}/validations", {"validated_on": ago(30), "result": result})
    due = date.fromisoformat((await read(client, admin, url))["validation_due"])
    lapsed = await db.run(lambda s: lapsed_days(s, machine["id"]), write=False)
    assert due == TODAY and not lapsed(due) and lapsed(due + timedelta(days=1))
