"""Dependencies of the routes: the app's state, the caller, the rate limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from ..app_state import AppState
from ..core.errors import ApiError
from ..core.metrics import RATE_LIMITED
from ..core.ratelimit import retry_after_header
from ..core.request_id import record_rate_limit
from ..core.security import Client

API_KEY_HEADER = "X-API-Key"

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="Your API key (not needed in local open mode)."
)


# Dependencies that do not block are `async def`: FastAPI runs a plain `def`
# dependency in its thread pool, a thread hop per request for a lookup.
async def get_state(request: Request) -> AppState:
    return request.app.state.lurescan


StateDep = Annotated[AppState, Depends(get_state)]


# The caller's dependencies read the state off the request rather than through
# StateDep: every nested dependency costs FastAPI a resolution on each request.
async def authenticated_client(request: Request, key: Annotated[str | None, Security(api_key_header)]) -> Client:
    host = request.client.host if request.client else None
    return request.app.state.lurescan.keys.authenticate(key, host)


async def charge(state: AppState, client: Client, cost: int, scope: dict | None = None) -> None:
    """Take `cost` tokens from the caller's bucket, or answer 429 with Retry-After;
    with the request's `scope`, its answer carries X-RateLimit-* headers."""
    if not state.settings.rate_limit_enabled:
        return
    wait, remaining = await state.limiter.take(client, cost)
    if scope is not None:
        record_rate_limit(scope, client.burst, remaining, (client.burst - remaining) / client.rate_per_second)
    if wait > 0:
        RATE_LIMITED.inc()
        seconds = retry_after_header(wait)
        raise ApiError(
            429,
            "rate_limited",
            f"rate limit of {client.rate_per_second:g} listings/s (burst {client.burst}) exceeded; retry in {seconds} s",
            headers={"Retry-After": seconds},
        )


def size_cost(request: Request, minimum: int) -> int:
    """Tokens for what the request asks: `minimum` (its listings), or one per
    `rate_limit_bytes_per_token` of body if more, so one 1 MB listing is not one token."""
    per_token = request.app.state.lurescan.settings.rate_limit_bytes_per_token
    try:
        size = int(request.headers.get("content-length", "0"))
    except ValueError:
        size = 0
    return max(minimum, -(-size // per_token) if per_token > 0 else 0, 1)


async def rate_limited_client(request: Request, client: Annotated[Client, Depends(authenticated_client)]) -> Client:
    await charge(request.app.state.lurescan, client, size_cost(request, 1), request.scope)
    return client


async def batch_client(request: Request, client: Annotated[Client, Depends(authenticated_client)]) -> Client:
    """Charge a batch for the listings it asks for, counted on the raw body before validation
    (core/batch_precheck.py), so an invalid batch costs what a valid one would."""
    items = request.scope.get("state", {}).get("batch_items")
    state = request.app.state.lurescan
    # Never more than the largest batch costs: a full batch must always be able to pass.
    cost = min(size_cost(request, max(1, items or 1)), max(state.settings.max_batch_items, items or 1))
    await charge(state, client, cost, request.scope)
    return client


async def admin_client(client: Annotated[Client, Depends(authenticated_client)]) -> Client:
    if not client.admin:
        raise ApiError(403, "admin_required", "this endpoint needs an admin API key")
    return client


# A caller who has paid one token (single listing, feedback, model info).
ClientDep = Annotated[Client, Depends(rate_limited_client)]
AdminDep = Annotated[Client, Depends(admin_client)]
# A batch caller, charged per listing asked for before the body is validated.
BatchClientDep = Annotated[Client, Depends(batch_client)]
