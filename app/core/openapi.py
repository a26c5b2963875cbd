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


_PROBLEM_REF = "#/components/schemas/Problem"
_FASTAPI_422_REF = "#/components/schemas/HTTPValidationError"


def problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """Error bodies are `application/problem+json` with the Problem schema.

    FastAPI documents models as `application/json` and adds its own 422 shape; both are
    rewritten to what the API really sends.
    """
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if "401" in responses:  # every authenticated route spends a rate-limit budget
                responses.setdefault(
                    "429",
                    {
                        "description": "Too Many Requests",
                        "content": {"application/json": {"schema": {"$ref": _PROBLEM_REF}}},
                    },
                )
            for response in responses.values():
                content = response.get("content", {})
                ref = content.get("application/json", {}).get("schema", {}).get("$ref")
                if ref in (_PROBLEM_REF, _FASTAPI_422_REF):
                    content.pop("application/json")
                    content["application/problem+json"] = {"schema": {"$ref": _PROBLEM_REF}}
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema
