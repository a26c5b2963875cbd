"""Small HTTP helpers the resource routers share: ETag, Location, If-Match."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Header, Request, Response

from app.core.schemas import ResourceRead

R = TypeVar("R", bound=ResourceRead)

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ETag you read (e.g. `"3"`): the change is refused with 412 if the '
        "resource changed since.",
    ),
]


def is_upload(path: str) -> bool:
    """The routes that take a file (their bodies are limited by MAX_FILE_SIZE)."""
    return path.endswith("/imports") or path.startswith("/upload/")


def with_etag(response: Response, body: R) -> R:
    response.headers["ETag"] = f'"{body.version}"'
    return body


def created(request: Request, response: Response, route: str, body: R, **params: Any) -> R:
    """201 body with `Location` of the new resource and its `ETag`."""
    response.headers["Location"] = str(request.app.url_path_for(route, **params))
    return with_etag(response, body)
