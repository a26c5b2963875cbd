"""Liveness and readiness probes, unauthenticated, and the Prometheus metrics.

`/health` and `/health/db` are never cached: a load balancer must see the database go away at
once. `/health/status` pings every dependency, so its answer is kept for
HEALTH_STATUS_CACHE_SECONDS per worker and a flood of calls pings each of them once per period.
`/metrics` is off by default in production and, with METRICS_TOKEN, needs that bearer token.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from app.auth.deps import public
from app.core.config import app_version
from app.core.db import get_db
from app.core.errors import NotFound, Unauthorized
from app.core.logger import get_logger
from app.core.metrics import DB_POOL_IN_USE, DB_POOL_SIZE, exposition

router = APIRouter(tags=["health"])
log = get_logger(__name__)
Status = Literal["ok", "degraded", "down"]


class Health(BaseModel):
    status: Status
    version: str
    uptime_s: float


class DbHealth(BaseModel):
    status: Status
    database: str


class Component(BaseModel):
    status: Status
    detail: str | None = None


class StatusReport(Health):
    components: dict[str, Component]


Components = dict[str, Component]


class StatusCache:
    """The last components' state, kept `seconds`; callers that arrive while it is being
    refreshed wait for that one refresh instead of pinging again."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = asyncio.Lock()
        self._value: Components | None = None
        self._at = 0.0

    def _fresh(self) -> bool:
        return self._value is not None and time.monotonic() - self._at < self.seconds

    async def get(self, probe: Callable[[], Awaitable[Components]]) -> Components:
        if self.seconds <= 0:
            return await probe()
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    self._value = await probe()
                    self._at = time.monotonic()
        assert self._value is not None
        return self._value


def _uptime(request: Request) -> float:
    started: float = request.app.state.started_at
    return round(time.monotonic() - started, 3)


async def _database(request: Request) -> Component:
    db = get_db(request)
    try:
        await db.ping()
    except Exception as exc:
        log.warning("health_db_down", error=str(exc) or type(exc).__name__)
        return Component(status="down", detail=f"{db.dialect} unreachable")
    return Component(status="ok", detail=db.dialect)


async def _storage(request: Request) -> Component:
    storage = request.app.state.storage
    try:
        await storage.ping()
    except Exception as exc:
        log.warning("health_storage_down", error=str(exc))
        return Component(status="down", detail=f"{storage.name} unreachable")
    return Component(status="ok", detail=storage.name)


@router.get("/health", response_model=Health)
@public
async def health(request: Request) -> Health:
    """Alive: the process answers. Does not touch the database."""
    return Health(status="ok", version=app_version(), uptime_s=_uptime(request))


@router.get("/health/db", response_model=DbHealth, responses={503: {"model": DbHealth}})
@public
async def health_db(request: Request) -> JSONResponse:
    """Ready: the database answers `SELECT 1` (503 when it does not)."""
    component = await _database(request)
    body = DbHealth(status=component.status, database=component.detail or "")
    return JSONResponse(body.model_dump(), status_code=200 if component.status == "ok" else 503)


@router.get("/health/status", response_model=StatusReport)
@public
async def health_status(request: Request) -> StatusReport:
    """Every component's state: database, file storage, rate-limit store."""

    async def probe() -> Components:
        limiter = request.app.state.rate_limiter
        rate_store = Component(
            status="ok" if await limiter.ping() else "down", detail=type(limiter.storage).__name__
        )
        return {
            "database": await _database(request),
            "storage": await _storage(request),
            "rate_limit_store": rate_store,
        }

    state = request.app.state
    cache: StatusCache | None = getattr(state, "health_status", None)
    if cache is None:  # made on first use, in the running event loop its lock belongs to
        cache = state.health_status = StatusCache(state.settings.health_status_cache_seconds)
    components = await cache.get(probe)
    overall: Status = "ok" if all(c.status == "ok" for c in components.values()) else "degraded"
    return StatusReport(
        status=overall, version=app_version(), uptime_s=_uptime(request), components=components
    )


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
@public
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus metrics (METRICS_ENABLED): requests and latency by route, imports and rows
    by outcome, scheduler runs by outcome, database pool use; every worker's, summed."""
    settings = request.app.state.settings
    if not settings.serve_metrics:
        raise NotFound("Metrics are off (METRICS_ENABLED; off by default in production)")
    if settings.metrics_token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        expected = settings.metrics_token.get_secret_value().encode()
        # compare_digest: the time taken must not tell how much of a guess was right.
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise Unauthorized("Metrics need `Authorization: Bearer <METRICS_TOKEN>`")
    pool = get_db(request).engine.pool
    DB_POOL_IN_USE.set(getattr(pool, "checkedout", lambda: 0)())
    DB_POOL_SIZE.set(getattr(pool, "size", lambda: 0)())
    return PlainTextResponse(exposition(), media_type=CONTENT_TYPE_LATEST)
