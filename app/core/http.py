"""Small HTTP helpers the resource routers share: their router class, ETag, Location, If-Match."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

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


Transport = Literal["read", "write", "upload", "auth"]
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def takes_file() -> None:
    """Marks a route that receives a file to import: its body may be as large as
    MAX_FILE_SIZE, and its calls count against the upload rate limit."""


def takes_attachment() -> None:
    """Marks a route that receives an attachment: its body may be as large as
    ATTACHMENT_MAX_SIZE, and its calls count against the upload rate limit."""


def signs_in() -> None:
    """Marks a sign-in route: its calls count against the auth rate limit."""


UPLOAD = Depends(takes_file)
UPLOAD_ATTACHMENT = Depends(takes_attachment)
AUTH = Depends(signs_in)
_MARKS: dict[Any, Transport] = {takes_file: "upload", takes_attachment: "upload", signs_in: "auth"}


def marker(scope: Scope) -> Any:
    """The route's transport marker (`takes_file`, `takes_attachment`, `signs_in`), or None."""
    for dependency in getattr(scope.get("route"), "dependencies", ()):
        if dependency.dependency in _MARKS:
            return dependency.dependency
    return None


def transport(scope: Scope) -> Transport:
    """How a request is limited (body size, rate-limit budget), from the route it matched:
    what the route declares (`dependencies=[UPLOAD]`, `[UPLOAD_ATTACHMENT]` or `[AUTH]`),
    else read or write by method. Known once routing has matched, which is before the body
    is read."""
    if (mark := marker(scope)) is not None:
        return _MARKS[mark]
    return "read" if scope["method"] in _SAFE_METHODS else "write"


def with_etag(response: Response, body: R) -> R:
    response.headers["ETag"] = f'"{body.version}"'
    return body


def path_for(request: Request, route: str, **params: int) -> str:
    """`app.url_path_for`, looked up once per route: this FastAPI rebuilds every route's
    dependants on each call, far too slow per request. Path parameters here are integer ids."""
    templates: dict[str, str] = request.app.state.__dict__.setdefault("path_templates", {})
    template = templates.get(route)
    if template is None:
        marks = {name: _MARK + i for i, name in enumerate(sorted(params))}
        template = str(request.app.url_path_for(route, **marks))
        for name, mark in marks.items():
            template = template.replace(str(mark), "{" + name + "}")
        templates[route] = template
    return template.format(**params)


_MARK = 7_919_000_000_000_000_001  # a number no real path contains


def created(request: Request, response: Response, route: str, body: R, **params: int) -> R:
    """201 body with `Location` of the new resource and its `ETag`."""
    response.headers["Location"] = path_for(request, route, **params)
    return with_etag(response, body)
