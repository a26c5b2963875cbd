"""create_app(): middleware, error handlers, routers; nothing else."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api import api_router
from app.auth.cache import CredentialCache
from app.auth.firebase import FirebaseVerifier
from app.core import clock, planner, writes
from app.core.audit import ActorScope
from app.core.conditional import ConditionalGets
from app.core.config import Settings, app_version, get_settings
from app.core.db import Database
from app.core.errors import install_error_handlers
from app.core.http import takes_attachment, takes_file
from app.core.idempotency import IdempotentPosts
from app.core.logger import configure_logging, get_logger
from app.core.metrics import process_exit, watch_pool
from app.core.middleware import (
    BodySizeLimit,
    HTTPSRedirect,
    RequestLogMiddleware,
    RetryTransientReads,
    SecurityHeaders,
    SingleQueryValues,
    TrustedHosts,
)
from app.core.openapi import finish_schema, operation_id
from app.core.pagination import TotalsCache
from app.core.ratelimit import RateLimiter, RateLimitHeaders
from app.dashboards import day_totals
from app.health.router import router as health_router
from app.imports.recovery import recover_interrupted
from app.imports.router import alias as upload_alias
from app.imports.service import Importer
from app.scheduler.service import Scheduler
from app.storage import create_storage

GC_THRESHOLDS = (50_000, 20, 20)
# What a browser's script may read of a response (CORS hides every other header from it).
EXPOSED_HEADERS = [
    "ETag",
    "Location",
    "Content-Disposition",
    "Retry-After",
    "X-Request-ID",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Idempotent-Replayed",
]
log = get_logger(__name__)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    clock.use(settings.workshop_timezone)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owns_db = database is None
        if owns_db:
            app.state.db = Database(settings)
            app.state.importer = Importer(app.state.db, app.state.storage, settings)
        watch_pool(app.state.db.engine)
        log.info("startup", environment=settings.environment, database=app.state.db.dialect)
        if settings.firebase_auth_emulator_host:
            # Settings allow it only in development, on loopback; still say so at every start.
            log.warning(
                "firebase_emulator_in_use",
                host=settings.firebase_auth_emulator_host,
                risk="ID tokens are not signature-checked: anyone who reaches this API can "
                "forge any user or role",
            )
        await day_totals.ensure_zone(app.state.db)
        try:
            await planner.refresh(app.state.db)
        except Exception as exc:  # plans from guesses are slower, not wrong: serve anyway
            log.error("analyze_failed", error=str(exc))
        try:
            await recover_interrupted(app.state.db)
        except Exception as exc:  # the database may be down at start: serve 503s, recover later
            log.error("import_recovery_failed", error=str(exc))
        writes.bind(app.state.totals)  # what scheduled jobs write drops this app's kept totals
        if settings.scheduler_enabled:
            app.state.scheduler = Scheduler(
                app.state.db, app.state.importer, app.state.storage, settings
            )
            await app.state.scheduler.start()
        # What start-up made lives as long as the process: out of the collector's way, so a
        # full collection during an import walks only the import's objects; and collections
        # are rarer than the default's (every 700 new objects), since an import makes tens of
        # thousands of short-lived rows a second, which reference counting frees (ADR 0028).
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        try:
            yield
        finally:
            if app.state.scheduler is not None:
                await app.state.scheduler.shutdown()
            await app.state.importer.shutdown()
            if app.state.firebase is not None:
                app.state.firebase.close()
            if owns_db:
                await app.state.db.dispose()
            process_exit()
            log.info("shutdown")

    app = FastAPI(
        title="Welding Workshop API",
        version=app_version(),
        description="Work orders, machines, inspections, stock and machine Excel imports.",
        lifespan=lifespan,
        docs_url="/docs" if settings.show_docs else None,
        redoc_url="/redoc" if settings.show_docs else None,
        openapi_url="/openapi.json" if settings.show_docs else None,
        telemetry={"tracing": False, "metrics": False, "logs": False},
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.started_at = time.monotonic()
    app.state.storage = create_storage(settings)
    app.state.firebase = FirebaseVerifier(settings) if settings.firebase_project_id else None
    app.state.rate_limiter = RateLimiter(settings)
    app.state.credentials = CredentialCache(settings.auth_cache_seconds)
    app.state.totals = TotalsCache(settings.list_total_cache_seconds)
    app.state.scheduler = None
    if database is not None:
        app.state.db = database
        app.state.importer = Importer(database, app.state.storage, settings)
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(api_router)
    app.include_router(upload_alias)

    # Added innermost first: the request id wraps everything, so every log line and every
    # error body (even a 500) carries it.
    app.add_middleware(ActorScope)  # who the audit trail names: this request's caller only
    app.add_middleware(writes.BoundTo, cache=app.state.totals)  # its writes drop its totals
    app.add_middleware(ConditionalGets)  # ETag on GET answers, 304 to If-None-Match
    app.add_middleware(IdempotentPosts)  # inside BodySizeLimit: it may read a whole upload
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.frontend_url,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
            "X-API-Key",
            "X-Request-ID",
        ],
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,
    )
    app.add_middleware(SingleQueryValues)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_request_body,
        # the multipart envelope around the file is small; 64 KiB covers it
        file_limits={
            takes_file: settings.max_file_size + 64 * 1024,
            takes_attachment: settings.attachment_max_size + 64 * 1024,
        },
    )
    app.add_middleware(RetryTransientReads, attempts=settings.db_retry_attempts)
    app.add_middleware(RateLimitHeaders, limiter=app.state.rate_limiter)
    app.add_middleware(SecurityHeaders, hsts=settings.is_production)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    if settings.is_production:
        app.add_middleware(HTTPSRedirect)
    app.add_middleware(TrustedHosts, allowed_hosts=settings.allowed_hosts)
    # Outermost: the client's address and scheme from X-Forwarded-* of trusted proxies only.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            app.openapi_schema = finish_schema(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
