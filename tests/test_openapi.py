"""The OpenAPI spec documents every route, its responses and its errors (problem+json)."""

from __future__ import annotations

import json
import re
from typing import Any

from openapi_spec_validator import validate

from app.main import create_app
from tests.conftest import make_settings


def expected_errors(path: str, method: str, op: dict[str, Any]) -> set[str]:
    params = op.get("parameters", [])
    # Every role may read: a route needing only `read` cannot answer 403.
    always = {"401", "429"}
    expected = always if path in ("/api/v1/auth/me", "/api/v1/auth/verify") else always | {"403"}
    if "{" in path:
        expected.add("404")
    if "requestBody" in op or any(p["in"] == "query" for p in params):
        expected.add("422")
    if any(p["in"] == "header" and p["name"] == "If-Match" for p in params):
        expected.add("412")
    return expected


def test_every_operation_is_documented_with_its_errors() -> None:
    spec = create_app(make_settings()).openapi()
    problems = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            if not op.get("summary") or not op.get("description"):
                problems.append(f"{where}: no summary/description")
            success = [c for c in op["responses"] if c.startswith("2")]
            if not success:
                problems.append(f"{where}: no success response")
            for code in success:
                if code != "204" and not op["responses"][code].get("content"):
                    problems.append(f"{where}: {code} has no response model")
            if not path.startswith("/api/"):
                continue
            for code, response in op["responses"].items():
                if code[0] in "45":
                    media = set(response.get("content", {}))
                    if media != {"application/problem+json"}:
                        problems.append(f"{where} {code}: {media}")
            missing = expected_errors(path, method, op) - set(op["responses"])
            if missing:
                problems.append(f"{where}: errors not declared: {sorted(missing)}")
    assert not problems, "\n".join(problems)
    assert "Problem" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_docs_are_off_in_production_unless_enabled() -> None:
    prod = {
        "environment": "production",
        "database_url": "postgresql://a@b/c",
        "firebase_project_id": "workshop-prod",
        "allowed_hosts": "api.workshop.example",
        "frontend_url": "https://app.workshop.example",
    }
    assert create_app(make_settings(**prod)).openapi_url is None
    assert create_app(make_settings(**prod, docs_enabled=True)).openapi_url == "/openapi.json"


def test_the_spec_states_the_limits_the_models_enforce() -> None:
    """Clients and fuzzers read the 64-bit integers, the years 1900-2999 and the 400 for a body
    that cannot be decoded from the spec itself."""
    spec = create_app(make_settings()).openapi()
    machine_id = next(
        p
        for p in spec["paths"]["/api/v1/machines/{machine_id}"]["get"]["parameters"]
        if p["name"] == "machine_id"
    )
    assert (machine_id["schema"]["minimum"], machine_id["schema"]["maximum"]) == (
        -(2**63),
        2**63 - 1,
    )
    due = spec["components"]["schemas"]["WorkOrderCreate"]["properties"]["due_date"]["anyOf"][0]
    assert due == {"type": "string", "format": "date", "pattern": "^(19|2[0-9])[0-9]{2}-"}
    assert "400" in spec["paths"]["/api/v1/machines"]["post"]["responses"]
    assert "400" not in spec["paths"]["/api/v1/machines"]["get"]["responses"]


def test_routes_that_take_files_declare_it() -> None:
    """A route that receives a file carries the UPLOAD marker, or UPLOAD_ATTACHMENT for an
    attachment (its body limit and rate-limit budget come from it); no other route does, and
    the sign-in routes carry AUTH. A route takes a file when a parameter is an UploadFile
    (FastAPI reads it) or its spec declares a multipart body (the upload routes read their form
    themselves, after the permission)."""
    import re
    from typing import get_type_hints

    from fastapi.routing import APIRoute, iter_route_contexts
    from starlette.datastructures import UploadFile

    from app.core.http import AUTH, UPLOAD, UPLOAD_ATTACHMENT, transport
    from app.models import OWNERS

    app = create_app(make_settings())
    spec = app.openapi()["paths"]
    seen = 0
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, str(context.path)
        if not isinstance(route, APIRoute):
            continue
        hints = get_type_hints(route.endpoint).values()
        reads_file = any(isinstance(h, type) and issubclass(h, UploadFile) for h in hints)
        in_spec = spec.get(re.sub(r"\{(\w+):\w+\}", r"{\1}", path), {})
        operations = [in_spec.get(method.lower(), {}) for method in route.methods]
        multipart = any(
            "multipart/form-data" in op.get("requestBody", {}).get("content", {})
            for op in operations
        )
        takes_file = reads_file or multipart
        marks = {d.dependency for d in route.dependencies}
        attachment = path.endswith("/attachments") and "POST" in route.methods
        assert takes_file == attachment or UPLOAD.dependency in marks, path
        assert attachment == (UPLOAD_ATTACHMENT.dependency in marks), path
        signs_in = path.startswith("/api/v1/auth/")
        assert signs_in == (AUTH.dependency in marks), path
        for method in route.methods:
            by_method = "read" if method in ("GET", "HEAD") else "write"
            expected = "upload" if takes_file else "auth" if signs_in else by_method
            assert transport({"route": route, "method": method}) == expected, path
        seen += takes_file
    assert seen == 2 + len(OWNERS)  # the upload, its alias and each owner's attachments


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, item in spec["paths"].items() for m, op in item.items()]


def test_operation_ids_are_readable_unique_and_stable() -> None:
    """Generated clients name their methods by the operation id: one rule makes them
    (app/core/openapi.py operation_id); each is unique, snake_case, and the ones pinned here
    do not change under a client's feet. Each operation has one tag, its resource, which
    clients group methods by."""
    spec = create_app(make_settings()).openapi()
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for method, path, op in operations(spec):
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", op["operationId"]), (method, path)
        assert len(op.get("tags", [])) == 1, (method, path)
    by_route = {(m, p): op["operationId"] for m, p, op in operations(spec)}
    pinned = {
        ("GET", "/api/v1/machines"): "machines_list",
        ("POST", "/api/v1/machines"): "machines_create",
        ("GET", "/api/v1/machines/{machine_id}"): "machines_get",
        ("PUT", "/api/v1/machines/{machine_id}"): "machines_replace",
        ("PATCH", "/api/v1/machines/{machine_id}"): "machines_update",
        ("DELETE", "/api/v1/machines/{machine_id}"): "machines_delete",
        ("POST", "/api/v1/workorders"): "workorders_create",
        ("GET", "/api/v1/workorders/export"): "workorders_export",
        ("GET", "/api/v1/workorders/{work_order_id}/welds"): "workorders_welds_list",
        ("GET", "/api/v1/workorders/{work_order_id}/dossier"): "workorders_dossier",
        ("POST", "/api/v1/imports/{import_id}/recheck"): "imports_recheck",
        ("GET", "/api/v1/imports/{import_id}/errors.xlsx"): "imports_errors_xlsx",
        ("POST", "/api/v1/templates/{template_id}/imports"): "imports_upload",
        ("POST", "/upload/{template_id}"): "imports_upload_alias",
        ("POST", "/api/v1/machines/{owner_id}/attachments"): "machines_attachments_upload",
        ("GET", "/api/v1/api-keys"): "api_keys_list",
        ("GET", "/api/v1/dashboard/inventory/alerts"): "dashboard_inventory_alerts",
        ("GET", "/health"): "health",
    }
    assert {route: by_route[route] for route in pinned} == pinned


def test_route_names_stay_the_python_names() -> None:
    """The operation ids are the spec's; the code still finds routes by their function's
    name (`path_for(request, "get_machine", ...)`)."""
    app = create_app(make_settings())
    assert app.url_path_for("get_machine", machine_id=7) == "/api/v1/machines/7"
    assert app.url_path_for("list_work_orders") == "/api/v1/workorders"


def test_every_schema_has_a_readable_name() -> None:
    """Schema names become class names in generated clients: `MachinePage`, never pydantic's
    `Page_MachineRead_` for a generic, nor FastAPI's `Body_...`/`Response_...` helpers."""
    spec = create_app(make_settings()).openapi()
    names = spec["components"]["schemas"]
    unreadable = [n for n in names if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", n)]
    assert not unreadable
    assert {"MachinePage", "WorkOrderPage", "AuditPage"} <= set(names)
    page = spec["paths"]["/api/v1/machines"]["get"]["responses"]["200"]["content"]
    assert page["application/json"]["schema"] == {"$ref": "#/components/schemas/MachinePage"}
    assert names["MachinePage"]["title"] == "MachinePage"
    refs = re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(spec))
    assert set(refs) <= set(names)


FILE = {"type": "string", "format": "binary"}


def test_file_answers_declare_their_media_type_and_a_binary_schema() -> None:
    """Exports, the errors workbook, the dossier's PDF, downloads: each success media type
    that is not JSON carries `type: string, format: binary`, which generators turn into bytes
    (an answer without a schema some of them drop)."""
    spec = create_app(make_settings()).openapi()
    files = {}
    for method, path, op in operations(spec):
        for code, response in op["responses"].items():
            for media, content in response.get("content", {}).items():
                if code.startswith("2") and not media.endswith("json"):
                    assert "schema" in content, (method, path, media)
                    files[(path, media)] = content["schema"]
    assert files[("/metrics", "text/plain")] == {"type": "string"}
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for path, media in [
        ("/api/v1/workorders/export", "text/csv"),
        ("/api/v1/workorders/export", xlsx),
        ("/api/v1/inspections/export", xlsx),
        ("/api/v1/items/export", xlsx),
        ("/api/v1/workshop-entries/export", xlsx),
        ("/api/v1/imports/{import_id}/errors.xlsx", xlsx),
        ("/api/v1/imports/{import_id}/file", "application/octet-stream"),
        ("/api/v1/workorders/{work_order_id}/dossier", "application/pdf"),
        ("/api/v1/machines/{owner_id}/attachments/{attachment_id}", "application/pdf"),
        ("/api/v1/machines/{owner_id}/attachments/{attachment_id}", "image/png"),
    ]:
        assert files[(path, media)] == FILE, (path, media)
    assert all(schema in (FILE, {"type": "string"}) for schema in files.values())


def test_the_spec_is_valid_openapi() -> None:
    spec = create_app(make_settings()).openapi()
    assert spec["openapi"].startswith("3.1")
    validate(spec)
