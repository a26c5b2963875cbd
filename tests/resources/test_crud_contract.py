"""The contract every resource keeps (docs/Product.md), run over each of them on every
backend: create/read/list/replace/patch/delete, each error they can return, and permissions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from app.auth.roles import Role
from tests import factories as f
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem

Refs = dict[str, int]


@dataclass(frozen=True)
class Spec:
    name: str
    url: str
    payload: Callable[[Refs], dict[str, Any]]
    patch: dict[str, Any]
    cleared: str  # an optional field the payload sets
    required: str  # a required field
    unique: str | None = None
    reference: str | None = None
    writer: Role = Role.manager
    deleter: Role = Role.manager
    extra_checks: dict[str, Any] = field(default_factory=dict)
    item: str | None = None  # where a row lives when not under its collection

    def collection(self, refs: Refs) -> str:
        return self.url.format(**refs)

    def member(self, refs: Refs, id_: object) -> str:
        return f"{self.item or self.collection(refs)}/{id_}"


SPECS = [
    Spec(
        "machines",
        "/api/v1/machines",
        lambda r: f.machine_payload(manufacturer="Fronius", metadata={"wire_feeder": "VR 5000"}),
        patch={"location": "Hall B", "status": "maintenance"},
        cleared="manufacturer",
        required="name",
        unique="code",
    ),
    Spec(
        "templates",
        "/api/v1/templates",
        lambda r: f.template_payload(r["machine_id"], sheet="Daten"),
        patch={"header_row": 3, "active": False},
        cleared="sheet",
        required="machine_id",
        unique="name",
        reference="machine_id",
    ),
    Spec(
        "workorders",
        "/api/v1/workorders",
        lambda r: f.work_order_payload(
            machine_id=r["machine_id"],
            assigned_welder_id=r["employee_id"],
            description="Crane girder, 12 fillet welds",
            due_date="2026-12-15",
        ),
        patch={"priority": "high", "quantity": 4},
        cleared="description",
        required="client",
        unique="order_id",
        reference="assigned_welder_id",
    ),
    Spec(
        "equipment",
        "/api/v1/equipment",
        lambda r: f.equipment_payload(machine_id=r["machine_id"], location="Hall A"),
        patch={"status": "maintenance"},
        cleared="location",
        required="type",
        unique="code",
        reference="machine_id",
    ),
    Spec(
        "inspections",
        "/api/v1/inspections",
        lambda r: f.inspection_payload(
            work_order_id=r["work_order_id"],
            welder_id=r["employee_id"],
            notes="root pass checked",
            defects=[{"code": 2011, "description": "porosity", "count": 2}],
        ),
        patch={"result": "Rework"},
        cleared="notes",
        required="method",
        reference="work_order_id",
        writer=Role.operator,
    ),
    Spec(
        "employees",
        "/api/v1/employees",
        lambda r: f.employee_payload(department="Fabrication", email="ana@example.com"),
        patch={"active": False, "role": "inspector"},
        cleared="department",
        required="last_name",
        unique="employee_number",
    ),
    Spec(
        "items",
        "/api/v1/items",
        lambda r: f.item_payload(supplier="Elektrode Jesenice"),
        patch={"location": "Rack 3", "reorder_level": 40},
        cleared="supplier",
        required="item_name",
        unique="item_id",
    ),
    Spec(
        "qualifications",
        "/api/v1/employees/{employee_id}/qualifications",
        lambda r: f.qualification_payload(),
        patch={"last_confirmed_on": "2026-09-01"},
        cleared="notes",
        required="process",
        unique="certificate_number",
    ),
    Spec(
        "wps",
        "/api/v1/wps",
        lambda r: f.wps_payload(filler="G 42 4 M21 3Si1"),
        patch={"notes": "root with backing", "thickness_max": 25},
        cleared="filler",
        required="process",
        unique="number",
    ),
    Spec(
        "welds",
        "/api/v1/workorders/{work_order_id}/welds",
        lambda r: f.weld_payload(material_group="1.1"),
        patch={"status": "welded", "length_mm": 800},
        cleared="material_group",
        required="joint",
        unique="reference",
        item="/api/v1/welds",
    ),
]


def over(specs: list[Spec]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("spec", specs, ids=[s.name for s in specs])


each = over(SPECS)


@pytest.fixture
async def refs(client: httpx.AsyncClient, admin: Headers) -> Refs:
    machine = await f.machine(client, admin)
    welder = await f.employee(client, admin)
    order = await f.work_order(client, admin)
    return {"machine_id": machine["id"], "employee_id": welder["id"], "work_order_id": order["id"]}


async def create(
    client: httpx.AsyncClient, headers: Headers, spec: Spec, refs: Refs
) -> dict[str, Any]:
    return await f.post(client, headers, spec.collection(refs), spec.payload(refs))


def same(sent: dict[str, Any], got: dict[str, Any]) -> None:
    for key, value in sent.items():
        if key in ("inspected_at",):
            continue
        if key == "mapping":
            assert [m["field"] for m in got[key]] == [m["field"] for m in value]
            continue
        assert got[key] == value, key


@each
async def test_create_read_and_list(
    spec: Spec, client: httpx.AsyncClient, admin: Headers, refs: Refs
) -> None:
    payload = spec.payload(refs)
    response = await client.post(spec.collection(refs), json=payload, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    same(payload, body)
    assert body["version"] == 1
    assert body["created_at"].endswith("Z") and body["updated_at"]
    assert response.headers["etag"] == '"1"'
    location = response.headers["location"]
    assert location == spec.member(refs, body["id"])

    fetched = await client.get(location, headers=admin)
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert fetched.headers["etag"] == '"1"'

    listed = (await client.get(spec.collection(refs), headers=admin)).json()
    assert body["id"] in [row["id"] for row in listed["items"]]
    assert listed["total"] >= 1 and listed["skip"] == 0 and listed["limit"] == 100


@each
async def test_put_replaces_the_whole_resource(
    spec: Spec, client: httpx.AsyncClient, admin: Headers, refs: Refs
) -> None:
    body = await create(client, admin, spec, refs)
    replacement = {k: v for k, v in spec.payload(refs).items() if k != spec.cleared}
    if spec.unique:
        replacement[spec.unique] = body[spec.unique]
    response = await client.put(spec.member(refs, body["id"]), json=replacement, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()[spec.cleared] is None, "a field left out of PUT goes back to default"
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'


@each
async def test_patch_changes_only_the_fields_sent(
    spec: Spec, client: httpx.AsyncClient, admin: Headers, refs: Refs
) -> None:
    body = await create(client, admin, spec, refs)
    url = spec.member(refs, body["id"])
    response = await client.patch(url, json=spec.patch, headers=admin)
    assert response.status_code == 200, response.text
    patched = response.json()
    same(spec.patch, patched)
    untouched = set(body) - set(spec.patch) - {"version", "updated_at", "assigned_welder_name"}
    assert {k: patched[k] for k in untouched} == {k: body[k] for k in untouched}
    assert patched["version"] == 2

    cleared = await client.patch(url, json={spec.cleared: None}, headers=admin)
    assert cleared.status_code == 200
    assert cleared.json()[spec.cleared] is None

    refused = await client.patch(url, json={spec.required: None}, headers=admin)
    problem = assert_problem(refused, 422, "VALIDATION_ERROR")
    assert spec.required in str(problem["errors"])
    assert (await client.get(url, headers=admin)).json()["version"] == 3


@each
async def test_stale_if_match_is_412_and_changes_nothing(
    spec: Spec, client: httpx.AsyncClient, admin: Headers, refs: Refs
) -> None:
    body = await create(client, admin, spec, refs)
    url = spec.member(refs, body["id"])
    fresh = await client.patch(url, json=spec.patch, headers={**admin, "If-Match": '"1"'})
    assert fresh.status_code == 200
    stale = {**admin, "If-Match": '"1"'}
    assert_problem(
        await client.patch(url, json=spec.patch, headers=stale), 412, "PRECONDITION_FAILED"
    )
    replacement = spec.payload(refs)
    if spec.unique:
        replacement[spec.unique] = body[spec.unique]
    assert_problem(
        await client.put(url, json=replacement, headers=stale), 412, "PRECONDITION_FAILED"
    )
    assert_problem(await client.delete(url, headers=stale), 412, "PRECONDITION_FAILED")
    current = await client.get(url, headers=admin)
    assert current.json() == fresh.json()
    ok = await client.delete(url, headers={**admin, "If-Match": current.headers["etag"]})
    assert ok.status_code == 204


@each
async def test_missing_resource_is_404(
    spec: Spec, client: httpx.AsyncClient, admin: Headers, refs: Refs
) -> None:
    url = spec.member(refs, 987654)
    assert_problem(await client.get(url, headers=admin), 404, "NOT_FOUND")
    assert_problem(await client.put(url, json=spec.payload(refs), headers=admin), 404, "NOT_FOUND")
    assert_problem(await client.patch(url, json=spec.patch, headers=admin), 404, "NOT_FOUND")
    assert_problem(await client.delete(url, headers=admin), 404, "NOT_FOUND")


@each
@pytest.mark.parametrize("field_name", ["id", "version", "created_at", "updated_at", "colour"])
async def test_read_only_and_unknown_fields_are_422(
    spec: Spec, client: httpx.AsyncClient, admin: Headers, refs: Refs, field_name: str
) -> None:
    body = await create(client, admin, spec, refs)
    value = 7 if field_name in ("id", "version") else "2026-01-01T00:00:00Z"
    response = await client.post(
        spec.collection(refs), json={**spec.payload(refs), field_name: value}, headers=admin
    )
    assert_problem(response, 422, "VALIDATION_ERROR")
    url = spec.member(refs, body["id"])
    assert_problem(
        await client.patch(url, json={field_name: value}, headers=admin), 422, "VALIDATION_ERROR"
    )
    assert (await client.get(url, headers=admin)).json() == body


@over([s for s in SPECS if s.unique])
async def test_unique_key_clash_is_409_naming_the_field(
    spec: Spec, client: httpx.AsyncClient, admin: Headers, refs: Refs
) -> None:
    first = await create(client, admin, spec, refs)
    clash = {**spec.payload(refs), spec.unique: first[spec.unique]}
    problem = assert_problem(
        await client.post(spec.collection(refs), json=clash, headers=admin), 409, "CONFLICT"
    )
    assert spec.unique is not None
    assert problem["fields"] == [spec.unique]
    second = await create(client, admin, spec, refs)
    url = spec.member(refs, second["id"])
    response = await client.patch(url, json={spec.unique: first[spec.unique]}, headers=admin)
    assert assert_problem(response, 409, "CONFLICT")["fields"] == [spec.unique]
    assert (await client.get(url, headers=admin)).json() == second


@over([s for s in SPECS if s.reference])
async def test_reference_to_a_missing_row_is_422_naming_the_field(
    spec: Spec, client: httpx.AsyncClient, admin: Headers, refs: Refs
) -> None:
    assert spec.reference is not None
    payload = {**spec.payload(refs), spec.reference: 987654}
    response = await client.post(spec.collection(refs), json=payload, headers=admin)
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == [spec.reference]
    listed = (await client.get(spec.collection(refs), headers=admin)).json()
    assert listed["total"] == (1 if spec.name == "workorders" else 0)


@each
async def test_delete_then_gone(
    spec: Spec, client: httpx.AsyncClient, admin: Headers, refs: Refs
) -> None:
    body = await create(client, admin, spec, refs)
    url = spec.member(refs, body["id"])
    response = await client.delete(url, headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(url, headers=admin), 404, "NOT_FOUND")


@each
async def test_list_pages_sorts_and_refuses_unknown_parameters(
    spec: Spec, client: httpx.AsyncClient, admin: Headers, refs: Refs
) -> None:
    ids = [(await create(client, admin, spec, refs))["id"] for _ in range(3)]
    url = spec.collection(refs)
    before = (await client.get(url, headers=admin)).json()["total"]
    first = (await client.get(url, params={"limit": 2}, headers=admin)).json()
    assert len(first["items"]) == 2 and first["has_more"] and first["total"] == before
    rest = (await client.get(url, params={"limit": 2, "skip": 2}, headers=admin)).json()
    assert len(first["items"]) + len(rest["items"]) == before
    assert not rest["has_more"]
    desc = (await client.get(url, params={"order": "desc"}, headers=admin)).json()
    assert [r["id"] for r in desc["items"]][:3] == sorted(ids, reverse=True)
    for bad in (
        {"sort_by": "password"},
        {"order": "sideways"},
        {"limit": 0},
        {"limit": 1001},
        {"skip": -1},
        {"colour": "red"},
    ):
        assert_problem(await client.get(url, params=bad, headers=admin), 422, "VALIDATION_ERROR")


@each
async def test_permissions(
    spec: Spec, client: httpx.AsyncClient, admin: Headers, make_key: MakeKey, refs: Refs
) -> None:
    body = await create(client, admin, spec, refs)
    url = spec.member(refs, body["id"])
    # No credential: 401 on every verb.
    for method, target in (
        ("GET", spec.collection(refs)),
        ("GET", url),
        ("POST", spec.collection(refs)),
        ("PUT", url),
        ("PATCH", url),
        ("DELETE", url),
    ):
        response = await client.request(method, target, json=spec.payload(refs))
        assert_problem(response, 401, "UNAUTHORIZED")
    order = list(Role)
    for role in order:
        headers = await make_key(role)
        assert (await client.get(url, headers=headers)).status_code == 200
        assert (await client.get(spec.collection(refs), headers=headers)).status_code == 200
        may_write = order.index(role) >= order.index(spec.writer)
        response = await client.post(
            spec.collection(refs), json=spec.payload(refs), headers=headers
        )
        assert response.status_code == (201 if may_write else 403), (role, response.text)
        put = await client.put(
            url,
            json={
                **spec.payload(refs),
                **({spec.unique: body[spec.unique]} if spec.unique else {}),
            },
            headers=headers,
        )
        assert put.status_code == (200 if may_write else 403), (role, put.text)
        may_delete = order.index(role) >= order.index(spec.deleter)
        if not may_delete:
            assert_problem(await client.delete(url, headers=headers), 403, "FORBIDDEN")
    assert (await client.delete(url, headers=admin)).status_code == 204
