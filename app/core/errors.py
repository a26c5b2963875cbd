"""One error family and one error body for the whole API.

Services raise `AppError` subclasses; `install_error_handlers` renders every failure (ours,
FastAPI's validation errors, routing 404/405, database errors, anything unexpected) as RFC 9457
`application/problem+json` with a stable `error_code`, the `request_id` and a timestamp.
Nothing internal (SQL, stack traces) goes into a body; the log line has it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import orjson
from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.core.logger import get_logger

PROBLEM_JSON = "application/problem+json"
log = get_logger(__name__)


class AppError(Exception):
    status_code = 500
    error_code = "INTERNAL_ERROR"
    title = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.detail)


def problem(status: int, code: str, detail: str, **kwargs: Any) -> AppError:
    """An AppError with a status and code decided at run time (e.g. by a file check)."""
    error = AppError(detail, **kwargs)
    error.status_code, error.error_code = status, code
    error.title = HTTPStatus(status).phrase
    return error


class Unauthorized(AppError):
    status_code, error_code, title = 401, "UNAUTHORIZED", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    status_code, error_code, title = 403, "FORBIDDEN", "Permission denied"


class NotFound(AppError):
    status_code, error_code, title = 404, "NOT_FOUND", "Not found"


class Conflict(AppError):
    status_code, error_code, title = 409, "CONFLICT", "Conflict"


class PreconditionFailed(AppError):
    status_code, error_code, title = 412, "PRECONDITION_FAILED", "Precondition failed"


class PayloadTooLarge(AppError):
    status_code, error_code, title = 413, "PAYLOAD_TOO_LARGE", "Payload too large"


class ValidationFailed(AppError):
    status_code, error_code, title = 422, "VALIDATION_ERROR", "Validation error"


def field_error(field: str, message: str, kind: str, *, where: str = "body") -> dict[str, Any]:
    """One entry of a problem's `errors`, shaped like FastAPI's own validation errors."""
    return {"loc": [where, *field.split(".")], "field": field, "message": message, "type": kind}


def invalid_fields(errors: list[dict[str, Any]]) -> ValidationFailed:
    return ValidationFailed(
        "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors
    )


class ServiceUnavailable(AppError):
    status_code, error_code, title = 503, "SERVICE_UNAVAILABLE", "Service unavailable"


class Gone(AppError):
    status_code, error_code, title = 410, "GONE", "Gone"


class SyncExpired(Gone):
    """A sync's `since` is older than the deletions kept (DELETIONS_KEEP_DAYS): sync in full."""

    error_code, title = "SYNC_EXPIRED", "Sync expired"


class StorageUnavailable(ServiceUnavailable):
    error_code, title = "STORAGE_UNAVAILABLE", "File storage unavailable"


class InsufficientStorage(AppError):
    status_code, error_code, title = 507, "INSUFFICIENT_STORAGE", "Insufficient storage"


# error_code for HTTP errors raised by the framework itself (routing, body limits).
_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


def problem_response(
    status: int,
    error_code: str,
    detail: str,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:workshop:error:{error_code.lower()}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "error_code": error_code,
        "request_id": correlation_id.get(),
        "timestamp": datetime.now(UTC).isoformat(),
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return Response(
        orjson.dumps(body, default=str),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _app_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem_response(
        exc.status_code,
        exc.error_code,
        exc.detail,
        title=exc.title,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(part) for part in error["loc"]],
            "field": ".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0]),
            "message": error["msg"],
            "type": error["type"],
        }
        for error in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem_response(
        422, "VALIDATION_ERROR", detail, title="Validation error", errors=errors
    )


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No route matches this path"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request, headers.get("Allow", ""))
    return problem_response(exc.status_code, code, detail, headers=headers)


def _allowed_methods(request: Request, routed: str) -> str:
    """Every method the router answers on this path. Starlette names only those of the first
    route that matched the path, and each verb of a resource is a route of its own."""
    methods = {m.strip().upper() for m in routed.split(",") if m.strip()}
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            methods.add(method)
    return ", ".join(sorted(methods))


def _integrity_error(request: Request, exc: Exception) -> Response:
    # Services translate the clashes they expect (unique keys, references) into precise
    # errors; this is the net for the ones they did not foresee. The session is rolled back
    # by the session dependency before this runs.
    log.warning("integrity_error", path=request.url.path, error=str(exc.__cause__ or exc))
    return problem_response(
        409, "INTEGRITY_ERROR", "The change conflicts with existing data", title="Conflict"
    )


def _out_of_range(request: Request, exc: Exception) -> Response:
    # A value the database cannot hold (a 70-bit id in a path, say) that no schema caught.
    log.info("value_out_of_range", path=request.url.path, error=str(exc)[:200])
    return problem_response(
        422,
        "VALUE_OUT_OF_RANGE",
        "A value is out of range for the database",
        title="Validation error",
    )


def _is_data_error(exc: BaseException) -> bool:
    """A value the database refused for its type (asyncpg's DataError reaches us wrapped in
    a plain DBAPIError)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if "DataError" in type(seen).__name__:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def _stale_data(_: Request, __: Exception) -> Response:
    return problem_response(
        412,
        "PRECONDITION_FAILED",
        "The resource was changed by someone else; reload it and try again",
        title="Precondition failed",
    )


def _database_error(request: Request, exc: Exception) -> Response:
    if _is_data_error(exc):
        return _out_of_range(request, exc)
    if is_transient_db_error(exc):
        # Read-only requests are retried by RetryTransientReads, which looks for this mark.
        request.state.db_transient = True
        log.warning("database_unavailable", path=request.url.path, error=str(exc))
        return problem_response(
            503,
            "DATABASE_UNAVAILABLE",
            "The database is unavailable; try again shortly",
            title="Database unavailable",
            headers={"Retry-After": "5"},
        )
    return _unexpected(request, exc)


def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled_error", path=request.url.path, exc_info=exc)
    return internal_error_response()


def internal_error_response() -> Response:
    return problem_response(
        500, "INTERNAL_ERROR", "An unexpected error occurred", title="Internal server error"
    )


def is_transient_db_error(exc: BaseException) -> bool:
    """Lost connections, timeouts, deadlocks and lock waits: worth a retry, answered with 503."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        # Deadlock / serialization failure come as other DBAPI classes on some drivers.
        text = str(exc.orig).lower()
        return any(k in text for k in ("deadlock", "serializ", "lock wait timeout"))
    return isinstance(exc, (ConnectionError, TimeoutError, OSError))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sa_exc.IntegrityError, _integrity_error)
    app.add_exception_handler(StaleDataError, _stale_data)
    app.add_exception_handler(sa_exc.DataError, _out_of_range)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(sa_exc.SQLAlchemyError, _database_error)
    app.add_exception_handler(OSError, _database_error)
    # Anything else is caught by RequestLogMiddleware, inside the request-id middleware, so
    # even a 500 carries its request_id.
