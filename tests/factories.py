"""Test data through the API itself, with realistic defaults; any field can be overridden."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from tests.conftest import Headers

_seq = itertools.count(1)


def n() -> int:
    return next(_seq)


def machine_payload(**over: Any) -> dict[str, Any]:
    i = n()
    return {"code": f"MIG-{i:03}", "name": f"Fronius TPS 500i #{i}", "type": "MIG/MAG", **over}


def employee_payload(**over: Any) -> dict[str, Any]:
    i = n()
    return {
        "employee_number": f"E-{i:04}",
        "first_name": "Ana",
        "last_name": f"Kovač {i}",
        "role": "welder",
        **over,
    }


def template_payload(machine_id: int, **over: Any) -> dict[str, Any]:
    return {
        "name": f"Fronius export v{n()}",
        "machine_id": machine_id,
        "mapping": [
            {"column": "Timestamp", "field": "ts", "type": "datetime", "required": True},
            {"column": "Arc time [s]", "field": "arc_time_s", "type": "number"},
            {"column": "Wire [m]", "field": "wire_m", "type": "number"},
        ],
        "timestamp_field": "ts",
        "timezone": "Europe/Ljubljana",
        **over,
    }


def work_order_payload(**over: Any) -> dict[str, Any]:
    return {"order_id": f"WO-2026-{n():04}", "client": "Acme Cranes d.o.o.", **over}


def equipment_payload(**over: Any) -> dict[str, Any]:
    return {"code": f"POS-{n():03}", "name": "Positioner 2 t", "type": "positioner", **over}


def inspection_payload(**over: Any) -> dict[str, Any]:
    return {
        "method": "VT",
        "result": "Pass",
        "weld_reference": f"W-{n()}",
        "quality_level": "C",
        "inspected_at": "2026-11-20T10:00:00+01:00",
        **over,
    }


def item_payload(**over: Any) -> dict[str, Any]:
    return {
        "item_id": f"WIRE-{n():04}",
        "item_name": "G3Si1 wire 1.0 mm, 15 kg spool",
        "category": "wire",
        "unit": "kg",
        "quantity": 120,
        "reorder_level": 30,
        "reorder_quantity": 150,
        **over,
    }


def qualification_payload(**over: Any) -> dict[str, Any]:
    return {
        "standard": "ISO 9606-1",
        "process": "135",
        "certificate_number": f"CERT-{n():05}",
        "material_group": "1.1",
        "product": "P",
        "joint": "BW",
        "test_thickness": 8,
        "test_position": "PF",
        "notes": "examined by TÜV",
        "issued_on": "2025-03-01",
        "expires_on": "2028-03-01",
        **over,
    }


PASS = {
    f"{parameter}_{end}": None
    for parameter in ("current", "voltage", "wire_feed", "travel_speed", "heat_input")
    for end in ("min", "max")
}


def wps_payload(**over: Any) -> dict[str, Any]:
    return {
        "number": f"WPS-{n():05}",
        "standard": "ISO 15614-1",
        "process": "135",
        "joint": "BW",
        "material_groups": ["1.1"],
        "thickness_min": 3,
        "thickness_max": 16,
        "positions": ["PA", "PF"],
        "passes": [
            {**PASS, "seq": 1, "layer": "root", "current_min": 110, "current_max": 150},
            {**PASS, "seq": 2, "layer": "cap", "current_min": 180, "current_max": 240},
        ],
        **over,
    }


def weld_payload(**over: Any) -> dict[str, Any]:
    return {
        "reference": f"W-{n():05}",
        "process": "135",
        "joint": "BW",
        "thickness": 10,
        "position": "PA",
        **over,
    }


async def post(
    http: httpx.AsyncClient, headers: Headers, url: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def machine(http: httpx.AsyncClient, headers: Headers, **over: Any) -> dict[str, Any]:
    return await post(http, headers, "/api/v1/machines", machine_payload(**over))


async def employee(http: httpx.AsyncClient, headers: Headers, **over: Any) -> dict[str, Any]:
    return await post(http, headers, "/api/v1/employees", employee_payload(**over))


async def template(
    http: httpx.AsyncClient, headers: Headers, machine_id: int, **over: Any
) -> dict[str, Any]:
    return await post(http, headers, "/api/v1/templates", template_payload(machine_id, **over))


async def work_order(http: httpx.AsyncClient, headers: Headers, **over: Any) -> dict[str, Any]:
    return await post(http, headers, "/api/v1/workorders", work_order_payload(**over))


async def item(http: httpx.AsyncClient, headers: Headers, **over: Any) -> dict[str, Any]:
    return await post(http, headers, "/api/v1/items", item_payload(**over))
