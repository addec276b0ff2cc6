"""Scoring: one listing, or a batch in one vectorised model call."""

from __future__ import annotations

import anyio
from fastapi import APIRouter
from lurescan.model.listing import JobListing
from lurescan.model.scoring import ListingScore

from ... import crud
from ...app_state import AppState
from ...core.errors import ApiError, error_responses
from ...core.metrics import LISTINGS_FLAGGED, LISTINGS_SCORED, REQUEST_BATCH
from ..deps import BatchClientDep, ClientDep, StateDep
from ..schemas import BatchRequest, BatchResult, ScoreRequest, ScoreResult

router = APIRouter(prefix="/v1", tags=["scoring"])

ERRORS = error_responses(400, 401, 403, 413, 415, 422, 429, 503)


def cap_fields(listing: JobListing, max_chars: int) -> tuple[JobListing, bool]:
    """Cut over-long text fields to `max_chars`; offsets into the kept head stay valid."""
    updates = {name: value[:max_chars] for name, value in listing.text_fields() if len(value) > max_chars}
    if not updates:
        return listing, False
    return listing.model_copy(update=updates), True


def _result(score: ListingScore, capped: bool, stored_id: int | None = None) -> ScoreResult:
    # dict(score) keeps the validated Reason objects, so they are not validated again.
    return ScoreResult(**{**dict(score), "truncated": score.truncated or capped}, stored_id=stored_id)


async def score_listings(
    state: AppState, client_name: str, listings: list[JobListing], threshold: float | None, store: bool, endpoint: str
) -> list[ScoreResult]:
    if store and not state.settings.store_texts:
        raise ApiError(
            403, "storage_disabled", "this server is configured not to store listing text; send `store: false`"
        )
    capped = [cap_fields(listing, state.settings.max_field_chars) for listing in listings]
    kept = [listing for listing, _ in capped]
    scores = await state.scoring.score(kept, threshold)
    stored_ids: list[int | None] = [None] * len(scores)
    if store:
        stored_ids = await anyio.to_thread.run_sync(crud.store_scored, state.db, client_name, kept, scores)
    LISTINGS_SCORED.labels(endpoint).inc(len(scores))
    flagged = sum(s.flagged for s in scores)
    if flagged:
        LISTINGS_FLAGGED.labels(endpoint).inc(flagged)
    return [_result(s, was_capped, sid) for s, (_, was_capped), sid in zip(scores, capped, stored_ids)]


@router.post(
    "/score",
    response_model=ScoreResult,
    responses=ERRORS,
    summary="Score one listing",
    description=(
        "Send structured fields, or raw `text`/`html` from a page. Returns the scam probability, the decision at the "
        "model's threshold (or yours), a risk level and the red flags found, each with `field`, `start` and `end` "
        "indexing that field exactly as you sent it, so a page can highlight them as is. Fields longer than the "
        "server's cap are cut and the result says `truncated`."
    ),
)
async def score(body: ScoreRequest, client: ClientDep, state: StateDep) -> ScoreResult:
    [result] = await score_listings(state, client.name, [body.as_listing()], body.threshold, body.store, "single")
    return result


@router.post(
    "/score/batch",
    response_model=BatchResult,
    responses=ERRORS,
    summary="Score many listings in one call",
    description=(
        "Up to the server's batch limit (see the API description; 413 `too_many_items` beyond it). Results come back "
        "in request order, each with its `id`. The batch is scored in one vectorised model call. Each listing costs "
        "one token of your rate limit, counted before validation: an invalid batch costs what it asked for."
    ),
)
async def score_batch(body: BatchRequest, client: BatchClientDep, state: StateDep) -> BatchResult:
    limit = state.settings.max_batch_items
    if len(body.listings) > limit:  # the raw-body precheck counts objects; this counts what was validated
        raise ApiError(
            413, "too_many_items", f"a batch holds at most {limit} listings; this one has {len(body.listings)}"
        )
    REQUEST_BATCH.observe(len(body.listings))
    results = await score_listings(
        state, client.name, [item.as_listing() for item in body.listings], body.threshold, body.store, "batch"
    )
    return BatchResult(results=results)
