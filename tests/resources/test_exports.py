"""Exports: the list's filters, CSV and XLSX, streamed, formula-safe."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import insert

from app.core.db import Database
from app.models import WorkshopEntry
from tests import factories as f
from tests.conftest import Headers
from tests.core.test_errors import assert_problem


def read_csv(response: httpx.Response) -> list[list[str]]:
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def read_xlsx(response: httpx.Response) -> list[list[Any]]:
    assert response.headers["content-type"].startswith("application/vnd.openxml")
    return (
        CalamineWorkbook.from_filelike(io.BytesIO(response.content))
        .get_sheet_by_index(0)
        .to_python()
    )


async def test_work_orders_export_with_filters_and_formula_neutralised(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    welder = await f.employee(client, admin, first_name="Ana", last_name="Novak")
    await f.work_order(
        client,
        admin,
        client='=HYPERLINK("http://evil")',
        assigned_welder_id=welder["id"],
        notes="+cmd|' /C calc'!A0",
        priority="urgent",
    )
    await f.work_order(client, admin, client="Acme", priority="low")
    url = "/api/v1/workorders/export"
    rows = read_csv(await client.get(url, params={"priority": "urgent"}, headers=admin))
    header, row = rows[0], rows[1]
    assert len(rows) == 2
    record = dict(zip(header, row, strict=True))
    assert record["client"] == '\'=HYPERLINK("http://evil")'
    assert record["notes"].startswith("'+cmd")
    assert record["assigned_welder_name"] == "Ana Novak"
    assert record["priority"] == "urgent"
    response = await client.get(url, params={"format": "xlsx", "sort_by": "client"}, headers=admin)
    assert 'filename="work-orders.xlsx"' in response.headers["content-disposition"]
    sheet = read_xlsx(response)
    assert sheet[0][:3] == ["id", "order_id", "client"]
    assert [r[2] for r in sheet[1:]] == ['\'=HYPERLINK("http://evil")', "Acme"]
    assert_problem(
        await client.get(url, params={"format": "pdf"}, headers=admin), 422, "VALIDATION_ERROR"
    )
    assert_problem(await client.get(url), 401, "UNAUTHORIZED")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_items_and_inspections_export(
    client: httpx.AsyncClient, admin: Headers, fmt: str
) -> None:
    await f.item(client, admin, quantity=1, reorder_level=5, item_name="-low item")
    await f.item(client, admin, quantity=50, reorder_level=5)
    response = await client.get(
        "/api/v1/items/export", params={"format": fmt, "low_stock": True}, headers=admin
    )
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert len(rows) == 2
    assert rows[1][rows[0].index("item_name")] == "'-low item"
    assert float(rows[1][rows[0].index("quantity")]) == 1
    await f.post(
        client,
        admin,
        "/api/v1/inspections",
        f.inspection_payload(result="Fail", defects=[{"code": 2011, "count": 2}]),
    )
    response = await client.get(
        "/api/v1/inspections/export", params={"format": fmt, "result": "Fail"}, headers=admin
    )
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert len(rows) == 2
    assert "2011" in str(rows[1][rows[0].index("defects")])


async def test_entries_export_flattens_a_templates_fields(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    machine = await f.machine(client, admin)
    template = await f.template(client, admin, machine["id"])
    await db.run(
        lambda s: s.execute(
            insert(WorkshopEntry),
            [
                {
                    "template_id": template["id"],
                    "machine_id": machine["id"],
                    "row_number": i + 2,
                    "data": {
                        "ts": "2026-11-01T00:00:00Z",
                        "arc_time_s": i * 1.5,
                        "wire_m": "@SUM(A1)",
                    },
                }
                for i in range(3)
            ],
        )
    )
    rows = read_csv(
        await client.get(
            "/api/v1/workshop-entries/export", params={"template_id": template["id"]}, headers=admin
        )
    )
    assert rows[0] == [
        "id",
        "machine_id",
        "template_id",
        "import_id",
        "row_number",
        "recorded_at",
        "ts",
        "arc_time_s",
        "wire_m",
    ]
    assert [r[7] for r in rows[1:]] == ["0.0", "1.5", "3.0"]
    assert rows[1][8] == "'@SUM(A1)"
    plain = read_csv(
        await client.get("/api/v1/workshop-entries/export", params={"limit": 2}, headers=admin)
    )
    assert plain[0][-1] == "data" and len(plain) == 3
    missing = await client.get(
        "/api/v1/workshop-entries/export", params={"template_id": 987654}, headers=admin
    )
    assert_problem(missing, 404, "NOT_FOUND")
    assert_problem(
        await client.get("/api/v1/workshop-entries/export", params={"limit": 0}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
