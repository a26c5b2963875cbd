"""The OpenAPI spec as clients read it: the error responses routes declare (all in the one
problem+json shape), the operation ids generated clients name their methods by, and the
schemas of the files routes answer with."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from fastapi.routing import APIRoute
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


_API_PREFIX = "/api/v1"
_ITEM_VERBS = {"GET": "get", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}
_COLLECTION_VERBS = ("list", "create", "upload")


def operation_id(route: APIRoute) -> str:
    """The operation's id, which generated clients name their method by (`machines_list`):
    the path's words, less the prefix and the parameters, then what the operation does.

    On an item (`/machines/{machine_id}`) the method says it: get, replace (PUT), update
    (PATCH), delete. On a collection the route function's verb does, when it is list, create
    or upload (`list_machines` is `machines_list`); any other route ending in a word is a
    view or an action, named by the path's words alone (`imports_recheck`,
    `workorders_export`). A route whose id would read badly by this rule passes
    `operation_id=` itself. FastAPI calls this once per route (`generate_unique_id_function`),
    before the route knows its response model, hence the function's name; ids stay as stable
    as paths and names, and tests/test_openapi.py checks they are unique."""
    segments = [s for s in route.path_format.removeprefix(_API_PREFIX).split("/") if s]
    words = [re.sub(r"\W", "_", s) for s in segments if not s.startswith("{")]
    (method,) = route.methods or ("GET",)  # every route here answers one method
    if segments and segments[-1].startswith("{"):
        words.append(_ITEM_VERBS.get(method, method.lower()))
    elif (verb := route.name.partition("_")[0]) in _COLLECTION_VERBS:
        words.append(verb)
    return "_".join(words)


def finish_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The spec says what the API really does: its error bodies, its file answers, conditional
    GETs and idempotent POSTs, and the
    limits the models enforce that FastAPI does not write down (64-bit integers, years
    1900-2999)."""
    declare_limits(
        file_schemas(problem_media_types(conditional_and_idempotent(name_generics(schema))))
    )
    return schema


# How pydantic names a parametrized generic model's schema: `Page[MachineRead]` is
# `Page_MachineRead_`.
_GENERIC_NAME = re.compile(r"^([A-Za-z0-9]+)_([A-Za-z0-9]+)_$")


def name_generics(schema: dict[str, Any]) -> dict[str, Any]:
    """A page's schema is named after what it holds, `MachinePage` (pydantic names it
    `Page_MachineRead_`, which generated clients turn into class names like
    `PageMachineRead`). The schema is renamed and every reference to it follows."""
    components = schema.get("components", {}).get("schemas", {})
    renamed: dict[str, str] = {}
    for name in list(components):
        if match := _GENERIC_NAME.match(name):
            generic, argument = match.groups()
            new = argument.removesuffix("Read") + generic
            if new in components:
                raise ValueError(f"{name} would be renamed {new}, a name already taken")
            components[new] = components.pop(name)
            components[new]["title"] = new
            renamed[f"{_REF_PREFIX}{name}"] = f"{_REF_PREFIX}{new}"
    if renamed:
        _follow_renames(schema, renamed)
    return schema


_REF_PREFIX = "#/components/schemas/"


def _follow_renames(node: Any, renamed: dict[str, str]) -> None:
    if isinstance(node, dict):
        if (ref := node.get("$ref")) in renamed:
            node["$ref"] = renamed[ref]
        for value in node.values():
            _follow_renames(value, renamed)
    elif isinstance(node, list):
        for value in node:
            _follow_renames(value, renamed)


_JSON = re.compile(r"^application/(.+\+)?json$")


def file_schemas(schema: dict[str, Any]) -> dict[str, Any]:
    """A success answer in another media type than JSON is a file (an export, a workbook, a
    PDF, an attachment): it gets the schema of one, `type: string, format: binary`, which
    generators read as bytes (without a schema some drop the answer). Plain text is a string."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for code, response in operation.get("responses", {}).items():
                if not code.startswith("2"):
                    continue
                for media, content in response.get("content", {}).items():
                    if _JSON.match(media) or "schema" in content:
                        continue
                    if media.startswith("text/plain"):
                        content["schema"] = {"type": "string"}
                    else:
                        content["schema"] = {"type": "string", "format": "binary"}
    return schema


_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": 'ETags you hold (`"3"`, `"3", "4"` or `*`): 304 with no body if the '
    "answer's ETag is one of them. A resource's ETag is its version; a list's a hash of the page.",
    "schema": {"type": "string"},
}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A key of your choosing (a UUID, say), the same on every retry of one "
    "request: a retry with the same key and body within IDEMPOTENCY_KEEP_HOURS replays the "
    "first answer (with `Idempotent-Replayed: true`) and the work is done once. The same key "
    "with another body or route is 422 `IDEMPOTENCY_KEY_REUSED`; while the first request runs, "
    "409 `IDEMPOTENCY_KEY_IN_USE` with Retry-After. Keys are per credential. 1 to 255 "
    "printable ASCII characters, else 422 `IDEMPOTENCY_KEY_INVALID`.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}
_NOT_MODIFIED = {
    "description": "Not Modified: the ETag is one of If-None-Match's; no body",
    "headers": {"ETag": {"schema": {"type": "string"}}},
}


def conditional_and_idempotent(schema: dict[str, Any]) -> dict[str, Any]:
    """Every GET that answers JSON takes If-None-Match and may answer 304
    (app/core/conditional.py); every POST takes an Idempotency-Key, and may answer 409 and
    422 for it (app/core/idempotency.py). Both are middleware, invisible to FastAPI."""
    for path in schema.get("paths", {}).values():
        get = path.get("get")
        ok = (get or {}).get("responses", {}).get("200", {})
        if get is not None and "application/json" in ok.get("content", {}):
            get.setdefault("parameters", []).append(_IF_NONE_MATCH)
            ok.setdefault("headers", {}).setdefault("ETag", {"schema": {"type": "string"}})
            get["responses"].setdefault("304", _NOT_MODIFIED)
        post = path.get("post")
        if post is not None and "401" in post.get("responses", {}):
            post.setdefault("parameters", []).append(_IDEMPOTENCY_KEY)
            post["responses"].setdefault("409", _problem_doc(409))
            post["responses"].setdefault("422", _problem_doc(422))
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
