"""Liveness and readiness probes (no key needed)."""

from __future__ import annotations

import logging

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import StateDep
from ..schemas import Health

log = logging.getLogger("lurescan.serve")

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health}},
    summary="A model is loaded, requests can be scored and verdicts stored",
)
async def readyz(state: StateDep):
    scorer = state.holder.scorer
    if scorer is None:
        return JSONResponse(Health(status="loading").model_dump(), status_code=503)
    try:
        # A write rolled back: a read-only database must not pass and then fail every verdict.
        await anyio.to_thread.run_sync(state.db.check_writable)
    except Exception as exc:
        log.warning("readiness: the database cannot be written: %s", str(exc).splitlines()[0][:200])
        return JSONResponse(Health(status="database_unwritable").model_dump(), status_code=503)
    return Health(status="ready", model_version=scorer.model_version)
