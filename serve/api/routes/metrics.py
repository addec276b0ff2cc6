"""Prometheus exposition of the API's metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...core.errors import ApiError, error_responses
from ...core.metrics import render_metrics
from ..deps import API_KEY_HEADER

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (admin key, unless metrics_public)",
    response_class=Response,
    responses=error_responses(401, 403),
)
async def metrics(request: Request) -> Response:
    state = request.app.state.lurescan
    if not state.settings.metrics_public:
        # Per-key counts and the model in use are the operator's business: an admin key (open mode: this machine).
        host = request.client.host if request.client else None
        client = state.keys.authenticate(request.headers.get(API_KEY_HEADER), host)
        if not client.admin:
            raise ApiError(403, "admin_required", "/metrics needs an admin API key (or LURESCAN_METRICS_PUBLIC=true)")
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)
