"""Each resource's own rules, beyond the shared contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from app.core.db import Database
from app.models import ImportRecord, WorkshopEntry
from tests import factories as f
from tests.conftest import Headers
from tests.core.test_errors import assert_problem


async def ids(client: httpx.AsyncClient, headers: Headers, url: str, **params: Any) -> list[int]:
    response = await client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["items"]]


# --- machines -------------------------------------------------------------------------------


async def test_machine_filters_and_metadata(client: httpx.AsyncClient, admin: Headers) -> None:
    tig = await f.machine(
        client,
        admin,
        type="TIG",
        name="Kemppi MasterTig",
        location="Hall A",
        metadata={"torch": "TTC 220", "nested": {"a": [1, 2]}},
    )
    robot = await f.machine(client, admin, type="robot", status="maintenance", location="Hall B")
    url = "/api/v1/machines"
    assert await ids(client, admin, url, type="TIG") == [tig["id"]]
    assert await ids(client, admin, url, status="maintenance") == [robot["id"]]
    assert await ids(client, admin, url, location="Hall A") == [tig["id"]]
    assert await ids(client, admin, url, q="mastertig") == [tig["id"]]
    assert tig["metadata"] == {"torch": "TTC 220", "nested": {"a": [1, 2]}}
    assert_problem(
        await client.get(url, params={"type": "plasma"}, headers=admin), 422, "VALIDATION_ERROR"
    )
    bad = await client.post(url, json=f.machine_payload(metadata=[1, 2]), headers=admin)
    assert_problem(bad, 422, "VALIDATION_ERROR")


async def test_machine_in_use_cannot_be_deleted(client: httpx.AsyncClient, admin: Headers) -> None:
    machine = await f.machine(client, admin)
    await f.template(client, admin, machine["id"])
    await f.work_order(client, admin, machine_id=machine["id"])
    problem = assert_problem(
        await client.delete(f"/api/v1/machines/{machine['id']}", headers=admin), 409, "CONFLICT"
    )
    assert problem["dependents"] == {"templates.machine_id": 1, "work_orders.machine_id": 1}


# --- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"timestamp_field": "wire_m"}, "timestamp_field"),
        ({"timestamp_field": "nope"}, "timestamp_field"),
        ({"header_row": 0}, "header_row"),
        ({"mapping": []}, "mapping"),
        ({"mapping": [{"column": "A", "field": "x"}, {"column": "B", "field": "x"}]}, "one column"),
        (
            {"mapping": [{"column": "A", "field": "x"}, {"column": " a ", "field": "y"}]},
            "column appears twice",
        ),
        ({"mapping": [{"column": "A", "field": "Bad Name"}]}, "mapping"),
        ({"mapping": [{"column": "A", "field": "x", "type": "money"}]}, "mapping"),
    ],
)
async def test_template_mapping_is_validated(
    client: httpx.AsyncClient, admin: Headers, change: dict[str, Any], message: str
) -> None:
    machine = await f.machine(client, admin)
    payload = {**f.template_payload(machine["id"]), **change}
    if "mapping" in change:
        payload["timestamp_field"] = None
    problem = assert_problem(
        await client.post("/api/v1/templates", json=payload, headers=admin), 422, "VALIDATION_ERROR"
    )
    assert message in str(problem)


async def test_template_patch_is_validated_as_a_whole(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    machine = await f.machine(client, admin)
    template = await f.template(client, admin, machine["id"])
    url = f"/api/v1/templates/{template['id']}"
    # Dropping the timestamp column from the mapping alone would leave timestamp_field dangling.
    mapping = [m for m in template["mapping"] if m["field"] != "ts"]
    assert_problem(
        await client.patch(url, json={"mapping": mapping}, headers=admin), 422, "VALIDATION_ERROR"
    )
    ok = await client.patch(url, json={"mapping": mapping, "timestamp_field": None}, headers=admin)
    assert ok.status_code == 200
    assert await ids(client, admin, "/api/v1/templates", machine_id=machine["id"], active=True) == [
        template["id"]
    ]


async def test_patch_null_only_where_the_field_may_be_null(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    machine = await f.machine(client, admin, location="Hall 1")
    url = f"/api/v1/machines/{machine['id']}"
    response = await client.patch(url, json={"name": None}, headers=admin)
    assert_problem(response, 422, "VALIDATION_ERROR")  # a name may not be null
    cleared = await client.patch(url, json={"location": None}, headers=admin)
    assert cleared.status_code == 200 and cleared.json()["location"] is None
    assert cleared.json()["name"] == machine["name"]


# --- equipment ------------------------------------------------------------------------------


async def test_next_calibration_is_derived(client: httpx.AsyncClient, admin: Headers) -> None:
    url = "/api/v1/equipment"
    gauge = await f.post(
        client,
        admin,
        url,
        f.equipment_payload(
            type="gauge",
            last_calibration_date="2026-01-10",
            calibration_interval_days=180,
            next_calibration_due="2030-01-01",
        ),
    )
    assert gauge["next_calibration_due"] == "2026-07-09"
    moved = await client.patch(
        f"{url}/{gauge['id']}", json={"last_calibration_date": "2026-07-01"}, headers=admin
    )
    assert moved.json()["next_calibration_due"] == "2026-12-28"
    oven = await f.post(
        client, admin, url, f.equipment_payload(type="oven", next_calibration_due="2027-03-01")
    )
    assert oven["next_calibration_due"] == "2027-03-01"
    assert await ids(client, admin, url, calibration_due_before="2027-01-01") == [gauge["id"]]
    assert await ids(client, admin, url, type="oven") == [oven["id"]]
    assert_problem(
        await client.patch(
            f"{url}/{oven['id']}", json={"calibration_interval_days": 0}, headers=admin
        ),
        422,
        "VALIDATION_ERROR",
    )


# --- inspections ----------------------------------------------------------------------------


async def test_inspection_defects_and_filters(client: httpx.AsyncClient, admin: Headers) -> None:
    url = "/api/v1/inspections"
    welder = await f.employee(client, admin)
    failed = await f.post(
        client,
        admin,
        url,
        f.inspection_payload(
            result="Fail",
            method="RT",
            welder_id=welder["id"],
            defects=[{"code": 2011, "count": 3}, {"code": 5011, "description": "undercut"}],
        ),
    )
    assert failed["defects"] == [
        {"code": 2011, "description": None, "count": 3},
        {"code": 5011, "description": "undercut", "count": 1},
    ]
    assert failed["inspected_at"] == "2026-11-20T09:00:00Z"
    passed = await f.post(
        client, admin, url, f.inspection_payload(inspected_at="2026-11-25T08:00:00Z")
    )
    assert await ids(client, admin, url, result="Fail") == [failed["id"]]
    assert await ids(client, admin, url, welder_id=welder["id"], method="RT") == [failed["id"]]
    assert await ids(client, admin, url, inspected_from="2026-11-24T00:00:00Z") == [passed["id"]]
    assert_problem(
        await client.get(url, params={"inspected_from": "2026-11-24T00:00:00"}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    for defects in ([{"code": 7001}], [{"code": 2011, "count": 0}], [{"code": "porosity"}]):
        bad = await client.post(url, json=f.inspection_payload(defects=defects), headers=admin)
        assert_problem(bad, 422, "VALIDATION_ERROR")
    for bad_value in ({"result": "OK"}, {"method": "XR"}, {"quality_level": "A"}):
        bad = await client.post(url, json=f.inspection_payload(**bad_value), headers=admin)
        assert_problem(bad, 422, "VALIDATION_ERROR")


# --- employees and qualifications -----------------------------------------------------------


async def test_qualifications_belong_to_their_employee(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    ana, marko = await f.employee(client, admin), await f.employee(client, admin)
    quals = f"/api/v1/employees/{ana['id']}/qualifications"
    cert = await f.post(client, admin, quals, f.qualification_payload(expires_on="2026-12-31"))
    assert cert["employee_id"] == ana["id"]
    other = f"/api/v1/employees/{marko['id']}/qualifications/{cert['id']}"
    assert_problem(await client.get(other, headers=admin), 404, "NOT_FOUND")
    assert_problem(
        await client.patch(other, json={"notes": "PA only"}, headers=admin), 404, "NOT_FOUND"
    )
    assert_problem(await client.delete(other, headers=admin), 404, "NOT_FOUND")
    assert_problem(
        await client.get("/api/v1/employees/987654/qualifications", headers=admin), 404, "NOT_FOUND"
    )
    missing_employee = await client.post(
        "/api/v1/employees/987654/qualifications", json=f.qualification_payload(), headers=admin
    )
    assert_problem(missing_employee, 404, "NOT_FOUND")
    backwards = f.qualification_payload(issued_on="2026-01-01", expires_on="2025-01-01")
    assert_problem(await client.post(quals, json=backwards, headers=admin), 422, "VALIDATION_ERROR")
    assert_problem(
        await client.post(quals, json=f.qualification_payload(process="MAG"), headers=admin),
        422,
        "VALIDATION_ERROR",
    )

    expiring = await ids(
        client, admin, "/api/v1/employees", qualification_expires_before="2027-01-01"
    )
    assert expiring == [ana["id"]]
    assert await ids(client, admin, quals, expires_to="2027-01-01") == [cert["id"]]

    # Qualifications go with their employee.
    assert (await client.delete(f"/api/v1/employees/{ana['id']}", headers=admin)).status_code == 204
    assert_problem(await client.get(f"{quals}/{cert['id']}", headers=admin), 404, "NOT_FOUND")


async def test_employee_filters(client: httpx.AsyncClient, admin: Headers) -> None:
    url = "/api/v1/employees"
    ana = await f.employee(
        client, admin, first_name="Ana", last_name="Novak", hire_date="2019-04-01"
    )
    ivo = await f.employee(client, admin, role="inspector", active=False, department="QA")
    assert await ids(client, admin, url, role="inspector") == [ivo["id"]]
    assert await ids(client, admin, url, active=True) == [ana["id"]]
    assert await ids(client, admin, url, q="novak") == [ana["id"]]
    assert await ids(client, admin, url, hire_to="2020-01-01") == [ana["id"]]
    assert await ids(client, admin, url, department="QA") == [ivo["id"]]
    bad = await client.post(url, json=f.employee_payload(email="not-an-email"), headers=admin)
    assert_problem(bad, 422, "VALIDATION_ERROR")


# --- workshop entries -----------------------------------------------------------------------


async def test_entries_filters_and_keyset_cursor(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    machine = await f.machine(client, admin)
    template = await f.template(client, admin, machine["id"])
    other_machine = await f.machine(client, admin)
    other = await f.template(client, admin, other_machine["id"])
    start = datetime(2026, 11, 1, tzinfo=UTC)

    async def add_imports(session: Any) -> list[int]:
        made = []
        for n, tid in enumerate([template["id"]] * 3 + [other["id"]]):
            record = ImportRecord(
                template_id=tid,
                source="cli",
                original_filename=f"f{n}.xlsx",
                file_format="xlsx",
                sha256=f"{n:064d}",
                size_bytes=1,
                status="completed",
                on_error="abort",
                errors=[],
            )
            session.add(record)
            await session.flush()
            made.append(record.id)
        return made

    import_ids = await db.run(add_imports)
    rows = [
        {
            "template_id": template["id"],
            "machine_id": machine["id"],
            "import_id": import_ids[i // 10],
            "row_number": i + 2,
            "recorded_at": start + timedelta(hours=i),
            "data": {"arc_time_s": i},
        }
        for i in range(25)
    ] + [
        {
            "template_id": other["id"],
            "machine_id": other_machine["id"],
            "import_id": import_ids[3],
            "row_number": 2,
            "recorded_at": start,
            "data": {"arc_time_s": 1.5},
        }
    ]
    await db.run(lambda s: s.execute(insert(WorkshopEntry), rows))
    url = "/api/v1/workshop-entries"

    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"machine_id": machine["id"], "limit": 10}
        if cursor is not None:
            params["after_id"] = cursor
        page = (await client.get(url, params=params, headers=admin)).json()
        assert page["total"] == 25
        seen += [row["id"] for row in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None
            break
    assert len(seen) == 25 and seen == sorted(seen)

    first = (
        await client.get(url, params={"template_id": template["id"], "limit": 1}, headers=admin)
    ).json()
    entry = first["items"][0]
    assert entry["data"] == {"arc_time_s": 0}
    assert entry["recorded_at"] == "2026-11-01T00:00:00Z"
    assert (await client.get(f"{url}/{entry['id']}", headers=admin)).json() == entry
    assert_problem(await client.get(f"{url}/987654321", headers=admin), 404, "NOT_FOUND")

    assert len(await ids(client, admin, url, import_id=import_ids[2])) == 5
    window = {"recorded_from": "2026-11-01T05:00:00Z", "recorded_to": "2026-11-01T09:00:00Z"}
    assert len(await ids(client, admin, url, machine_id=machine["id"], **window)) == 5
    no_total = (
        await client.get(url, params={"include_total": False, "limit": 5}, headers=admin)
    ).json()
    assert no_total["total"] is None and no_total["has_more"] is True
    latest = (
        await client.get(
            url,
            params={
                "sort_by": "recorded_at",
                "order": "desc",
                "limit": 1,
                "machine_id": machine["id"],
            },
            headers=admin,
        )
    ).json()
    assert latest["items"][0]["data"] == {"arc_time_s": 24} and latest["next_cursor"] is None
    # Outside the keyset order, after_id is a plain filter (and gives no cursor).
    params = {"machine_id": machine["id"], "after_id": seen[4], "order": "desc"}
    newer = (await client.get(url, params=params, headers=admin)).json()
    assert [e["id"] for e in newer["items"]] == sorted(seen[5:], reverse=True)
    assert newer["next_cursor"] is None
    for bad in (
        {"recorded_from": "yesterday"},
        {"recorded_from": "0"},  # pydantic alone would read a number as 1970-01-01
        [("machine_id", "1"), ("machine_id", "2")],  # one value per parameter
    ):
        assert_problem(await client.get(url, params=bad, headers=admin), 422, "VALIDATION_ERROR")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await client.request(method, f"{url}/{entry['id']}", headers=admin)
        assert_problem(response, 405, "METHOD_NOT_ALLOWED")
        assert response.headers["allow"] == "GET"
