"""Small HTTP helpers the resource routers share: their router class, ETag, Location, If-Match."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Request, Response
from starlette.routing import Match
from starlette.types import Scope

from app.core.config import Settings
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


def get_settings(request: Request) -> Settings:
    """The settings this app was made with (`create_app(settings)`), not a fresh read of .env."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


class Router(APIRouter):
    """An APIRouter that passes over a request outside its prefix without trying its routes.

    FastAPI tries each route of each included router in turn, at each level of inclusion, and
    again when it hands the request on: a route of the twelfth router paid about 0.6 ms of
    matching per request (ADR 0022). Every path of this router contains its prefix, so a path
    without it cannot match any of them."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.prefix and f"{self.prefix}/" not in f"{scope['path']}/":
            return Match.NONE, {}
        return super().matches(scope)


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
