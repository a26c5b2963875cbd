"""Prometheus metrics: requests and latency by route template, imports and rows by outcome,
scheduler runs by outcome, database pool use. Served on GET /metrics (METRICS_ENABLED, off by
default in production; METRICS_TOKEN makes it ask for that bearer token).

Several workers (`workshop serve --workers N`) count in one directory, PROMETHEUS_MULTIPROC_DIR
(prometheus_client's multiprocess mode; `serve` makes or empties it before the workers start):
each worker writes its counts to its own files there, and /metrics, whichever worker answers it,
adds up every worker's (ADR 0038). The pool gauges are each worker's own, kept current by the
pool's events and summed over the live workers; a worker that stops takes its gauges with it.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

# Read by prometheus_client when it is imported: set before the workers start, or never.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "workshop_http_requests", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "workshop_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
IMPORTS = Counter("workshop_imports", "Finished imports", ["source", "outcome"], registry=REGISTRY)
IMPORT_ROWS = Counter("workshop_import_rows", "Imported rows", ["outcome"], registry=REGISTRY)
SCHEDULER_RUNS = Counter(
    "workshop_scheduler_runs", "Scheduled import runs", ["outcome"], registry=REGISTRY
)
WEBHOOK_ATTEMPTS = Counter(
    "workshop_webhook_attempts",
    "Webhook delivery attempts by outcome (delivered, retry, failed)",
    ["outcome"],
    registry=REGISTRY,
)
DB_POOL_IN_USE = Gauge(
    "workshop_db_pool_checked_out",
    "Database connections in use",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "workshop_db_pool_size",
    "Database connections open",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)


def exposition() -> bytes:
    """The text /metrics answers: this process's, or with several workers all of theirs."""
    if not MULTIPROCESS:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


_WATCHED: weakref.WeakSet[Any] = weakref.WeakSet()


def watch_pool(engine: AsyncEngine) -> None:
    """Keep the pool gauges current as connections come and go (not only when this worker
    answers /metrics: another worker may)."""
    pool = engine.sync_engine.pool
    if pool in _WATCHED:
        return
    _WATCHED.add(pool)

    def update(*_: Any) -> None:
        DB_POOL_IN_USE.set(getattr(pool, "checkedout", lambda: 0)())
        DB_POOL_SIZE.set(getattr(pool, "size", lambda: 0)())

    for name in ("checkout", "checkin"):
        event.listen(pool, name, update)
    update()


def process_exit() -> None:
    """A worker stops: its live gauges go (its counters stay in the sums)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)
