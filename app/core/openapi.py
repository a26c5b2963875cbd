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


INT64 = (-(2**63), 2**63 - 1)
# The years every supported database stores the same way (SafeValues refuses the others).
YEAR_PATTERN = "^(19|2[0-9])[0-9]{2}-"


def _problem_doc(status: int) -> dict[str, Any]:
    """A response documented with the Problem schema (the media type is fixed just below)."""
    return {
        "description": HTTPStatus(status).phrase,
        "content": {"application/json": {"schema": {"$ref": _PROBLEM_REF}}},
    }


def finish_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The spec says what the API really does: its error bodies, and the limits the models
    enforce that FastAPI does not write down (64-bit integers, years 1900-2999)."""
    declare_limits(problem_media_types(schema))
    return schema


def problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """Error bodies are `application/problem+json` with the Problem schema.

    FastAPI documents models as `application/json` and adds its own 422 shape; both are
    rewritten to what the API really sends. A body that cannot be decoded at all (not UTF-8,
    say) is a 400.
    """
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if "requestBody" in operation:
                responses.setdefault("400", _problem_doc(400))
            if "401" in responses:  # every authenticated route spends a rate-limit budget
                responses.setdefault("429", _problem_doc(429))
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


def declare_limits(node: Any) -> Any:
    """Every integer is a signed 64-bit value and every date a year in 1900-2999: the checks
    in `SafeValues` (and the columns) enforce them, and clients (and fuzzers) read them here."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            node.setdefault("minimum", INT64[0])
            node.setdefault("maximum", INT64[1])
        if node.get("type") == "string" and node.get("format") in ("date", "date-time"):
            node.setdefault("pattern", YEAR_PATTERN)
        for value in node.values():
            declare_limits(value)
    elif isinstance(node, list):
        for value in node:
            declare_limits(value)
    return node
