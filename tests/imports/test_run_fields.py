"""Run fields on every backend: employees' badges, templates that map run fields with units and
a minimum arc time, and imports that store the runs in canonical units."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from tests import factories as f
from tests.conftest import Headers
from tests.core.test_errors import assert_problem
from tests.imports import files
from tests.imports.conftest import Upload

HEADER = ["Time", "Badge", "WPS", "Wire [m/min]", "Energy [Wh]", "Arc [min]", "Length [cm]"]
RUN_MAPPING = [
    {"column": "Time", "field": "ts", "type": "datetime", "required": True},
    {"column": "Badge", "field": "welder_badge", "type": "string"},
    {"column": "WPS", "field": "wps_number", "type": "string"},
    {"column": "Wire [m/min]", "field": "wire_feed_mm_s", "type": "number", "unit": "m/min"},
    {"column": "Energy [Wh]", "field": "energy_j", "type": "number", "unit": "Wh"},
    {"column": "Arc [min]", "field": "arc_time_s", "type": "number", "unit": "min"},
    {"column": "Length [cm]", "field": "length_mm", "type": "number", "unit": "cm"},
]


async def test_badges_are_unique_and_filter_the_list(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    ana = await f.employee(client, admin, badge="0457")
    assert ana["badge"] == "0457"
    other = await f.employee(client, admin)
    assert other["badge"] is None
    await f.employee(client, admin)  # two without a badge do not clash

    clash = assert_problem(
        await client.post(
            "/api/v1/employees", json=f.employee_payload(badge="0457"), headers=admin
        ),
        409,
        "CONFLICT",
    )
    assert "badge" in str(clash)
    patched = await client.patch(
        f"/api/v1/employees/{other['id']}", json={"badge": "0457"}, headers=admin
    )
    assert_problem(patched, 409, "CONFLICT")

    found = await client.get("/api/v1/employees", params={"badge": "0457"}, headers=admin)
    assert [e["id"] for e in found.json()["items"]] == [ana["id"]]
    none = await client.get("/api/v1/employees", params={"badge": "045"}, headers=admin)
    assert none.json()["total"] == 0  # exact, not contains
    assert_problem(
        await client.post("/api/v1/employees", json=f.employee_payload(badge=""), headers=admin),
        422,
        "VALIDATION_ERROR",
    )


async def test_an_import_stores_runs_in_canonical_units_and_marks_tacks(
    client: httpx.AsyncClient, admin: Headers, upload: Upload
) -> None:
    machine = await f.machine(client, admin)
    template = await f.template(
        client, admin, machine["id"], mapping=RUN_MAPPING, min_arc_time_s=3, sheet="Daten"
    )
    assert template["min_arc_time_s"] == 3
    assert template["mapping"][3]["unit"] == "m/min" and template["mapping"][1]["unit"] is None
    start = dt.datetime(2026, 11, 2, 6, 0)
    data = [
        [start, "0457", "WPS-101", 9, 1, 1.5, 45],
        [start + dt.timedelta(minutes=5), "0457", "WPS-101", 9, 0.01, 0.04, 1],  # 2.4 s
    ]
    # Nobody has badge 0457 and WPS-101 is not registered: reported, the runs kept (skip).
    response = await upload(
        files.xlsx(data, header=HEADER), template_id=template["id"], on_error="skip"
    )
    assert response.status_code == 201, response.text
    assert response.json()["rows_imported"] == 2
    assert [(e["row"], e["field"], e["kind"]) for e in response.json()["errors"]] == [
        (2, "welder_badge", "unresolved"),
        (2, "wps_number", "unresolved"),
    ]  # the tack (row 3) is not judged, so it reports nothing

    page = await client.get(
        "/api/v1/workshop-entries", params={"import_id": response.json()["id"]}, headers=admin
    )
    run, tack = (e["data"] for e in page.json()["items"])
    assert run == {
        "ts": "2026-11-02T05:00:00Z",
        "welder_badge": "0457",
        "wps_number": "WPS-101",
        "wire_feed_mm_s": 150.0,
        "energy_j": 3600.0,
        "arc_time_s": 90.0,
        "length_mm": 450.0,
    }
    assert tack["arc_time_s"] == pytest.approx(2.4) and tack["energy_j"] == 36.0
    assert tack["tack"] is True  # kept, and marked


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"column": "W", "field": "wire_feed_mm_s", "type": "number", "unit": "furlong"},
            "wire_feed_mm_s",
        ),
        ({"column": "W", "field": "current_a", "type": "number", "unit": "mA"}, "current_a"),
        ({"column": "B", "field": "welder_badge", "type": "string", "unit": "s"}, "welder_badge"),
        ({"column": "X", "field": "free_text", "type": "string", "unit": "s"}, "free_text"),
        ({"column": "B", "field": "welder_badge", "type": "integer"}, "welder_badge"),
        ({"column": "P", "field": "process", "type": "number"}, "process"),
        ({"column": "V", "field": "voltage_v", "type": "string"}, "voltage_v"),
        ({"column": "S", "field": "pass_seq", "type": "date"}, "pass_seq"),
    ],
)
async def test_run_fields_are_validated(
    client: httpx.AsyncClient, admin: Headers, entry: dict[str, Any], message: str
) -> None:
    machine = await f.machine(client, admin)
    payload = f.template_payload(machine["id"])
    payload["mapping"] = [*payload["mapping"], entry]
    problem = assert_problem(
        await client.post("/api/v1/templates", json=payload, headers=admin), 422, "VALIDATION_ERROR"
    )
    (error,) = problem["errors"]  # type: ignore[misc]
    assert error["field"] == "mapping" and message in error["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"min_arc_time_s": -1}, "min_arc_time_s"),
        ({"min_arc_time_s": 2, "mapping": RUN_MAPPING[:1]}, "min_arc_time_s"),
        (
            {"min_arc_time_s": 2, "mapping": [*RUN_MAPPING, {"column": "T", "field": "tack"}]},
            "tack",
        ),
    ],
)
async def test_the_minimum_arc_time_is_validated(
    client: httpx.AsyncClient, admin: Headers, change: dict[str, Any], message: str
) -> None:
    machine = await f.machine(client, admin)
    payload = {**f.template_payload(machine["id"], mapping=RUN_MAPPING), **change}
    problem = assert_problem(
        await client.post("/api/v1/templates", json=payload, headers=admin), 422, "VALIDATION_ERROR"
    )
    assert message in str(problem)


async def test_a_unit_given_as_the_canonical_one_and_integer_run_fields_are_accepted(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    machine = await f.machine(client, admin)
    mapping = [
        *f.template_payload(machine["id"])["mapping"],
        {"column": "I", "field": "current_a", "type": "integer", "unit": "A"},
        {"column": "Pass", "field": "pass_seq", "type": "integer"},
    ]
    template = await f.template(client, admin, machine["id"], mapping=mapping)
    assert template["mapping"][-2]["unit"] == "A" and template["min_arc_time_s"] is None
