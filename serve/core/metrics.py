"""Prometheus metrics of the API, safe with several uvicorn workers.

With one worker the default registry is served. With several, `lurescan
serve` sets PROMETHEUS_MULTIPROC_DIR before the workers start, each worker
writes its samples there, and /metrics aggregates them all (prometheus
client's multiprocess mode), so a scrape sees the whole server, not one
worker.
"""

from __future__ import annotations

import os
import re
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from starlette.types import Message, Receive, Scope, Send

from .asgi import HttpMiddleware

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

disable_created_metrics()  # the *_created series only double the scrape

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

HTTP_REQUESTS = Counter("lurescan_http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "lurescan_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
MODEL_LATENCY = Histogram("lurescan_model_seconds", "Time of one vectorised model call.", buckets=LATENCY_BUCKETS)
MODEL_BATCH = Histogram(
    "lurescan_model_batch_listings",
    "Listings per model call (batches and coalesced single requests).",
    buckets=BATCH_BUCKETS,
)
REQUEST_BATCH = Histogram(
    "lurescan_request_batch_listings", "Listings per /v1/score/batch request.", buckets=BATCH_BUCKETS
)
LISTINGS_SCORED = Counter("lurescan_listings_scored_total", "Listings scored.", ["endpoint"])
LISTINGS_FLAGGED = Counter(
    "lurescan_listings_flagged_total", "Listings flagged (flagged rate = flagged / scored).", ["endpoint"]
)
SCORE_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
SCAM_PROBABILITY = Histogram(
    "lurescan_scam_probability",
    "Scores given, by the listing's language: the distribution to watch for drift.",
    ["endpoint", "language"],
    buckets=SCORE_BUCKETS,
)
HTTP_ERRORS = Counter(
    "lurescan_http_errors_total", "Error answers by route template and error.type.", ["route", "status", "type"]
)
RATE_LIMITED = Counter("lurescan_rate_limited_total", "Requests refused by the rate limit.")
RATE_LIMIT_BACKEND_ERRORS = Counter(
    "lurescan_rate_limit_backend_errors_total", "Rate-limit checks that could not reach Redis."
)
FEEDBACK = Counter("lurescan_feedback_total", "Feedback rows stored.", ["verdict"])
MODEL_RELOADS = Counter("lurescan_model_reloads_total", "Bundle reloads.", ["outcome"])
MODEL_INFO = Gauge(
    "lurescan_model_info", "The loaded model (value 1).", ["model_version", "kind"], multiprocess_mode="livemax"
)


_shown_model: list[tuple[str, str]] = []


def set_model_info(model_version: str, kind: str) -> None:
    # Zero the previous model's series (clearing labels is not supported in multiprocess mode).
    for labels in _shown_model:
        MODEL_INFO.labels(*labels).set(0)
    _shown_model[:] = [(model_version, kind)]
    MODEL_INFO.labels(model_version, kind).set(1)


def render_metrics() -> tuple[bytes, str]:
    """The exposition text for /metrics: this process, or all workers in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_worker_dead(pid: int) -> None:
    """Drop a finished worker's live gauges (multiprocess mode only)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)


class HttpMetricsMiddleware(HttpMiddleware):
    """Counts requests and times them by route template (not raw path, to bound label cardinality)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        status = 500
        error_body = bytearray()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status >= 400 and len(error_body) < _ERROR_PEEK:
                error_body.extend(message.get("body", b"")[:_ERROR_PEEK])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            template = _route_template(scope, status)
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(method, template, str(status)).inc()
            HTTP_LATENCY.labels(method, template).observe(time.perf_counter() - start)
            if status >= 400:
                HTTP_ERRORS.labels(template, str(status), _error_type(bytes(error_body))).inc()


# Bytes of an error body read for its error.type (the type comes first in the body).
_ERROR_PEEK = 256
_ERROR_TYPE = re.compile(rb'"type"\s*:\s*"([a-z_]{1,40})"')


def _error_type(body: bytes) -> str:
    match = _ERROR_TYPE.search(body)
    return match.group(1).decode() if match else "unknown"


def _plain_routes(routes):
    """Routes with a path, included routers flattened."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _plain_routes(inner.routes)
        elif getattr(route, "path", None):
            yield route


def _route_template(scope: Scope, status: int) -> str:
    """The route's template, also for answers given before routing (413, 415, 429 from middleware)."""
    route = scope.get("route")
    if getattr(route, "path", None):
        return route.path
    path = scope.get("path", "")
    method = scope.get("method", "")
    for candidate in _plain_routes(getattr(scope.get("app"), "routes", ())):
        regex = getattr(candidate, "path_regex", None)
        if regex is not None and regex.match(path) and method in (getattr(candidate, "methods", None) or {method}):
            return candidate.path
    return "unmatched" if status == 404 else "other"
