"""docs/Error_Codes.md lists every error_code the service can answer with."""

from __future__ import annotations

import re
from pathlib import Path

import app.core.errors as errors_module
from app.core.errors import AppError

ROOT = Path(__file__).resolve().parents[1]


def codes_in_code() -> set[str]:
    found = set()
    for cls in [AppError, *_subclasses(AppError)]:
        found.add(cls.error_code)
    found.update(errors_module._HTTP_CODES.values())
    found.update({"INTEGRITY_ERROR", "INTERNAL_ERROR", "DATABASE_UNAVAILABLE"})
    pattern = re.compile(
        r'(?:problem|Rejected)\(\s*\d{3},\s*"([A-Z_]+)"|fail\(\s*"([A-Z_]+)"|'
        r'"code": "([A-Z_]+)"'
    )
    for path in (ROOT / "app").rglob("*.py"):
        for match in pattern.finditer(path.read_text()):
            found.update(group for group in match.groups() if group)
    return found


def _subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in [direct, *_subclasses(direct)]]


def test_every_error_code_is_documented() -> None:
    documented = set(
        re.findall(r"\| \d{3} \| ([A-Z_]+) \|", (ROOT / "docs/Error_Codes.md").read_text())
    )
    missing = codes_in_code() - documented
    assert not missing, f"add to docs/Error_Codes.md: {sorted(missing)}"
    assert {"ZIP_BOMB", "NOT_FOUND", "IMPORT_ROWS_INVALID"} <= documented


def test_generated_references_are_up_to_date() -> None:
    """Run `workshop docs` after changing routes or models."""
    from app.core.reference import api_reference, database_schema
    from app.main import create_app
    from tests.conftest import make_settings

    spec = create_app(make_settings(docs_enabled=True)).openapi()
    assert (ROOT / "docs/API_Reference.md").read_text() == api_reference(spec)
    assert (ROOT / "docs/Database_Schema.md").read_text() == database_schema()


def test_env_example_lists_every_setting() -> None:
    from app.core.config import Settings

    listed = set(re.findall(r"^([A-Z_0-9]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert {name.upper() for name in Settings.model_fields} == listed
