"""Pure ASGI middleware: access log and last-resort 500, read retries, request body limit,
one value per query parameter."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import field_error, internal_error_response, problem_response
from app.core.http import marker
from app.core.logger import get_logger
from app.core.metrics import observe_request

access_log = get_logger("workshop.access")
log = get_logger(__name__)


def route_template(scope: Scope) -> str | None:
    """The matched route with every router prefix (`/api/v1/machines/{machine_id}`)."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(context, "path_format", None)
    return template or getattr(scope.get("route"), "path", None)


def _state(scope: Scope) -> dict[str, object]:
    state: dict[str, object] = scope.setdefault("state", {})
    return state


class RequestLogMiddleware:
    """One access line per request; turns an unhandled exception into a problem+json 500.

    It sits inside the request-id middleware, so the 500 body and the log line both carry the
    request id, and the traceback goes to the log only.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            log.error("unhandled_error", path=scope.get("path"), exc_info=exc)
            if started:
                raise
            await internal_error_response()(scope, receive, send_wrapper)
        finally:
            route = route_template(scope) or "<unmatched>"
            elapsed = time.perf_counter() - start
            observe_request(scope["method"], route, status, elapsed)
            access_log.info(
                "request",
                method=scope["method"],
                route=route,
                path=scope.get("path"),
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                principal=_state(scope).get("principal"),
                client=(scope.get("client") or ("-",))[0],
            )


class RetryTransientReads:
    """Run a GET/HEAD again when it failed on a transient database error (lost connection,
    deadlock): reads are safe to repeat, and the client never sees the hiccup.

    The error handler marks the request (`state.db_transient`) and answers 503; the 503 is held
    back and the request re-run, up to `attempts` times, then the last 503 goes out.
    """

    def __init__(self, app: ASGIApp, attempts: int = 3, backoff_s: float = 0.1) -> None:
        self.app = app
        self.attempts = attempts
        self.backoff_s = backoff_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        for attempt in range(1, self.attempts + 1):
            state = _state(scope)
            state.pop("db_transient", None)
            held = False

            async def send_or_hold(
                message: Message, attempt: int = attempt, state: dict[str, object] = state
            ) -> None:
                nonlocal held
                if (
                    message["type"] == "http.response.start"
                    and message["status"] == 503
                    and state.get("db_transient")
                    and attempt < self.attempts
                ):
                    held = True
                if not held:
                    await send(message)

            await self.app(scope, receive, send_or_hold)
            if not held:
                return
            log.warning("retrying_read", path=scope.get("path"), attempt=attempt)
            await asyncio.sleep(self.backoff_s * attempt)


class BodySizeLimit:
    """413 for any request body over the limit, by Content-Length or while reading (chunked
    bodies carry no length). Routes that take a file have the limit of their marker
    (`file_limits`: `takes_file` for imports, `takes_attachment` for attachments); the route
    is known at the first read, as routing comes before the body."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, file_limits: dict[Any, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.file_limits = file_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit: int | None = None
        received = 0

        async def limited_receive() -> Message:
            nonlocal limit, received
            if limit is None:
                limit = self.file_limits.get(marker(scope), self.max_bytes)
                for name, value in scope.get("headers", []):
                    if name == b"content-length" and value.isdigit() and int(value) > limit:
                        raise _too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        await self.app(scope, limited_receive, send)


class SingleQueryValues:
    """422 for a query parameter given more than once: no parameter of this API takes a list,
    and silently using the last of several values hides the caller's mistake."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query: bytes = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"&" in query:
            names = [name for name, _ in parse_qsl(query.decode("latin-1"), True)]
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                errors = [
                    field_error(
                        name, "give this parameter once", "repeated_parameter", where="query"
                    )
                    for name in repeated
                ]
                response = problem_response(
                    422,
                    "VALIDATION_ERROR",
                    f"query parameter given more than once: {', '.join(repeated)}",
                    title="Validation error",
                    errors=errors,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _too_large(limit: int) -> HTTPException:
    # An HTTPException, because FastAPI re-raises those from body parsing (anything else
    # becomes its generic 400); the handler renders it as PAYLOAD_TOO_LARGE.
    return HTTPException(413, f"The request body exceeds {limit} bytes")


# The API answers JSON only: nothing may run, frame or be sniffed. The docs pages need the
# Swagger/ReDoc assets from their CDN and an inline bootstrap script.
_API_CSP = "default-src 'none'; frame-ancestors 'none'"
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com; font-src https://fonts.gstatic.com; "
    "worker-src blob:; frame-ancestors 'none'"
)


class SecurityHeaders:
    """nosniff, no framing, no referrer, a CSP; HSTS in production."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = _DOCS_CSP if path.startswith(("/docs", "/redoc")) else _API_CSP
        extra = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-security-policy", csp.encode()),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if self.hsts:
            extra.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HTTPSRedirect:
    """Production: plain-HTTP requests are redirected to HTTPS (the scheme comes from the
    trusted proxy's X-Forwarded-Proto). Health probes stay reachable over HTTP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] == "http"
            and scope.get("scheme") == "http"
            and not path.startswith("/health")
        ):
            from starlette.datastructures import URL
            from starlette.responses import RedirectResponse

            url = URL(scope=scope).replace(scheme="https")
            await RedirectResponse(str(url), status_code=308)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class TrustedHosts:
    """400 problem+json for a Host header not in ALLOWED_HOSTS (`*.example.com` allowed)."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.allowed = [h.lower() for h in allowed_hosts]
        self.any = "*" in self.allowed

    def _allowed(self, host: str) -> bool:
        return any(
            host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
            for pattern in self.allowed
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.any or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        if self._allowed(host.split(":")[0].lower()):
            await self.app(scope, receive, send)
            return
        await problem_response(
            400, "INVALID_HOST", "The Host header names no host this service answers for"
        )(scope, receive, send)
