"""The FastAPI application: `create_app(settings)` builds one, wired from settings.

`uvicorn --factory lurescan.serve.main:create_app` (what `lurescan serve`
runs) calls it once per worker. The lifespan loads the bundle, creates the
tables, starts the bundle watcher and hooks SIGHUP to a reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from lurescan import __version__
from lurescan.model.bundle import BundleError
from lurescan.model.errors import LurescanError

from .api.deps import API_KEY_HEADER
from .api.openapi import declare_limits
from .api.routes import docs, feedback, health, metrics, model, score, ui
from .app_state import AppState
from .batching import CoalescingScorer
from .core.batch_precheck import BatchPrecheckMiddleware
from .core.body_limit import BodyLimitMiddleware
from .core.config import Settings, get_settings
from .core.cors import CorsMiddleware
from .core.errors import install_error_handlers
from .core.keyreload import KeysReloader
from .core.media_type import JsonBodyMiddleware
from .core.metrics import HttpMetricsMiddleware, mark_worker_dead
from .core.ratelimit import build_rate_limiter
from .core.recycle import ConnectionRecycleMiddleware
from .core.request_id import RequestIdMiddleware
from .core.security import KeyStore
from .db import Database
from .model_holder import ModelHolder

log = logging.getLogger("lurescan.serve")


# SIGHUP reloads in flight.
_RELOADS: set = set()

class ConfigurationError(LurescanError):
    """Settings the server cannot start with; the message says what to change."""


def _description(settings: Settings) -> str:
    return (
        "Scores job ads for the overseas scam-compound recruitment pattern and says why, with red-flag spans that "
        "index your fields exactly as sent.\n\n"
        f"**Authentication:** `{API_KEY_HEADER}` header.\n\n"
        "**Limits of this server:**\n\n"
        f"| limit | value |\n|---|---|\n"
        f"| listings per batch | {settings.max_batch_items} |\n"
        f"| body of /v1/score, /v1/feedback | {settings.max_body_bytes:,} bytes |\n"
        f"| body of /v1/score/batch | {settings.max_batch_body_bytes:,} bytes |\n"
        f"| characters read per text field: for `html` its visible text (longer: head and tail read, "
        f"`content_dropped: true`) | {settings.max_field_chars:,} |\n"
        f"| rate per key | {settings.rate_limit_per_second:g} listings/s, burst {settings.rate_limit_burst} |\n\n"
        "**Browsers:** CORS is off until origins are allowed: `lurescan serve --cors-origin ORIGIN` (repeatable) or "
        "`LURESCAN_CORS_ORIGINS`. Bodies must be sent as `application/json` (else 415).\n\n"
        '**Errors** are JSON `{"error": {"type", "message", "details"?}}` with a stable `type` '
        "(`invalid_json`, `validation_error`, `empty_listing`, `missing_api_key`, `invalid_api_key`, "
        "`payload_too_large`, `too_many_items`, `rate_limited` with `Retry-After`, ...)."
    )


def _install_sighup(holder: ModelHolder, keys: KeysReloader | None = None) -> bool:
    """SIGHUP reloads the keys and the bundle (one-process server; a multi-worker uvicorn restarts its workers instead)."""
    if not hasattr(signal, "SIGHUP"):
        return False
    loop = asyncio.get_running_loop()

    def on_hup() -> None:
        if keys is not None:
            try:
                keys.reload()
            except ValueError as exc:
                log.error("SIGHUP: API keys not reloaded, keeping the keys in force: %s", exc)

        async def reload() -> None:
            try:
                await holder.reload()
            except Exception as exc:
                log.error(
                    "SIGHUP reload failed, still serving %s: %s", holder.scorer and holder.scorer.model_version, exc
                )

        # Held until done: the loop keeps only a weak reference to a task.
        task = loop.create_task(reload())
        _RELOADS.add(task)
        task.add_done_callback(_RELOADS.discard)

    try:
        loop.add_signal_handler(signal.SIGHUP, on_hup)
    except (RuntimeError, ValueError, NotImplementedError):  # not the main thread (e.g. TestClient)
        return False
    return True


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    api_keys = settings.load_api_keys()
    open_mode = settings.effective_open_mode(api_keys)
    if not api_keys and not open_mode:
        raise ConfigurationError(
            "no API keys configured and open mode is off: create a key with `lurescan keys create NAME --file keys.json` "
            "and set LURESCAN_API_KEYS_FILE=keys.json (open mode is only for servers bound to loopback)"
        )

    holder = ModelHolder(settings.bundle_path, settings.max_field_chars)
    state = AppState(
        settings=settings,
        keys=KeyStore(api_keys, open_mode, settings.rate_limit_per_second, settings.rate_limit_burst),
        limiter=build_rate_limiter(settings.redis_url, settings.redis_prefix, settings.rate_limit_fail_open),
        holder=holder,
        scoring=CoalescingScorer(
            holder,
            settings.coalesce_max_listings,
            settings.inline_max_ms / 1000,
            settings.score_budget_seconds,
            heavy_seconds=settings.heavy_min_ms / 1000,
        ),
        db=Database(settings.database_url),
    )
    state.keys_reloader = KeysReloader(settings, state.keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await anyio.to_thread.run_sync(state.db.create_tables)
        try:
            await holder.reload()
        except BundleError as exc:
            log.error("cannot start: %s", exc)
            raise
        # The model, rules and libraries are ~200k long-lived objects; a full
        # garbage collection walking them pauses the worker ~90 ms. Frozen, they
        # are left out of collections (reference counting still frees them).
        gc.freeze()
        hup = _install_sighup(holder, state.keys_reloader)
        watcher = (
            asyncio.create_task(holder.watch(settings.reload_poll_seconds))
            if settings.reload_poll_seconds > 0
            else None
        )
        keys_watcher = (
            asyncio.create_task(state.keys_reloader.watch(settings.reload_poll_seconds))
            if settings.reload_poll_seconds > 0 and settings.api_keys_file is not None
            else None
        )
        log.info(
            "lurescan API ready: model %s, %s, database %s, rate limits %s",
            holder.scorer.model_version,
            "open mode (loopback clients only)" if open_mode else f"{len(state.keys)} API key(s)",
            state.db.describe(),
            ("Redis" if settings.redis_url else "in-process") if settings.rate_limit_enabled else "off",
        )
        try:
            yield
        finally:
            for task in (watcher, keys_watcher):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if hup:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            await state.scoring.close()
            await state.limiter.close()
            state.db.dispose()
            mark_worker_dead(os.getpid())
            gc.unfreeze()

    app = FastAPI(
        title="lurescan scoring API",
        version=__version__,
        description=_description(settings),
        lifespan=lifespan,
        docs_url=None,  # served offline below (api/routes/docs.py)
        redoc_url=None,
        openapi_tags=[
            {"name": "scoring", "description": "Score listings for the scam-compound recruitment pattern."},
            {"name": "feedback", "description": "Moderators' verdicts, kept for retraining."},
            {"name": "model", "description": "The model serving now."},
            {"name": "health", "description": "Probes and metrics."},
        ],
    )
    app.state.lurescan = state
    declare_limits(app, settings)
    install_error_handlers(app)

    app.include_router(score.router)
    app.include_router(feedback.router)
    app.include_router(model.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(ui.router)
    app.mount("/static", StaticFiles(directory=ui.STATIC_DIR), name="static")
    app.include_router(docs.router(app.title))
    app.mount(docs.ASSETS_URL, StaticFiles(directory=docs.assets_dir()), name="docs-assets")

    app.add_middleware(JsonBodyMiddleware)
    # Inside the body limit: counts a batch's items on the raw body before FastAPI parses it.
    app.add_middleware(BatchPrecheckMiddleware, path="/v1/score/batch", max_items=settings.max_batch_items)
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.max_body_bytes,
        path_limits={"/v1/score/batch": settings.max_batch_body_bytes},
    )
    app.add_middleware(HttpMetricsMiddleware)
    if settings.workers > 1 and (settings.recycle_connections_after > 0 or settings.recycle_connections_seconds > 0):
        app.add_middleware(
            ConnectionRecycleMiddleware,
            max_requests=settings.recycle_connections_after,
            max_seconds=settings.recycle_connections_seconds,
        )
    if settings.cors_origins:
        # Outermost, so every answer (413 from the body limit, 415, 500) carries the CORS headers.
        app.add_middleware(
            CorsMiddleware,
            origins=settings.cors_origins,
            allow_headers=[API_KEY_HEADER, "Content-Type"],
            expose_headers=[
                "Retry-After",
                "X-Request-ID",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ],
        )
    # Outermost: every answer, middleware errors and preflights included, gets X-Request-ID (and X-RateLimit-*).
    app.add_middleware(RequestIdMiddleware)
    return app
