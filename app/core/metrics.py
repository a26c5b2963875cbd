"""Prometheus metrics: requests and latency by route template, imports and rows by outcome,
scheduler runs by outcome, database pool use. Served on GET /metrics (METRICS_ENABLED, off by
default in production; METRICS_TOKEN makes it ask for that bearer token)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
    "workshop_db_pool_checked_out", "Database connections in use", registry=REGISTRY
)
DB_POOL_SIZE = Gauge("workshop_db_pool_size", "Database connections open", registry=REGISTRY)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)
