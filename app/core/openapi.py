"""The error responses routes declare in OpenAPI, all in the one problem+json shape."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    loc: list[str]
    field: str
    message: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error."""

    type: str = Field(examples=["urn:workshop:error:not_found"])
    title: str
    status: int
    detail: str
    error_code: str = Field(description="Stable machine-readable code, see docs/Error_Codes.md")
    request_id: str | None
    timestamp: str
    errors: list[FieldError] | None = None


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        code: {
            "model": Problem,
            "description": HTTPStatus(code).phrase,
        }
        for code in codes
    }


def problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """Error bodies are `application/problem+json`; FastAPI documents models as JSON."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if code[0] in "45" and "application/json" in content:
                    content["application/problem+json"] = content.pop("application/json")
    return schema
