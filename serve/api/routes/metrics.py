"""Prometheus exposition of the API's metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from ...core.metrics import render_metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)
