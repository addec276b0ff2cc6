"""Liveness and readiness probes (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import StateDep
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health}},
    summary="A model is loaded and requests can be scored",
)
async def readyz(state: StateDep):
    scorer = state.holder.scorer
    if scorer is None:
        return JSONResponse(Health(status="loading").model_dump(), status_code=503)
    return Health(status="ready", model_version=scorer.model_version)
