"""Liveness and readiness probes: unauthenticated, cheap, never cached."""

from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from app.auth.deps import public
from app.core.config import app_version
from app.core.db import get_db
from app.core.errors import NotFound
from app.core.logger import get_logger
from app.core.metrics import DB_POOL_IN_USE, DB_POOL_SIZE, REGISTRY

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
    limiter = request.app.state.rate_limiter
    rate_store = Component(
        status="ok" if await limiter.ping() else "down", detail=type(limiter.storage).__name__
    )
    components = {
        "database": await _database(request),
        "storage": await _storage(request),
        "rate_limit_store": rate_store,
    }
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
    by outcome, scheduler runs by outcome, database pool use."""
    if not request.app.state.settings.metrics_enabled:
        raise NotFound("Metrics are disabled (METRICS_ENABLED=false)")
    pool = get_db(request).engine.pool
    DB_POOL_IN_USE.set(getattr(pool, "checkedout", lambda: 0)())
    DB_POOL_SIZE.set(getattr(pool, "size", lambda: 0)())
    return PlainTextResponse(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
