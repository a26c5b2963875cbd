"""The OpenAPI spec documents every route and its errors in the problem+json shape."""

from __future__ import annotations

from app.main import create_app
from tests.conftest import make_settings


def test_every_operation_is_documented_with_its_errors() -> None:
    spec = create_app(make_settings()).openapi()
    problems = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            if not op.get("description"):
                problems.append(f"{where}: no description")
            for code, response in op["responses"].items():
                if code[0] in "45" and path.startswith("/api/"):
                    media = set(response.get("content", {}))
                    if media != {"application/problem+json"}:
                        problems.append(f"{where} {code}: {media}")
            if path.startswith("/api/") and "401" not in op["responses"]:
                problems.append(f"{where}: 401 not declared")
    assert not problems, "\n".join(problems)
    assert "Problem" in spec["components"]["schemas"]


def test_docs_are_off_in_production_unless_enabled() -> None:
    prod = {"environment": "production", "database_url": "postgresql://a@b/c"}
    assert create_app(make_settings(**prod)).openapi_url is None
    assert create_app(make_settings(**prod, docs_enabled=True)).openapi_url == "/openapi.json"
