"""Scoring: one listing, or a batch in one vectorised model call."""

from __future__ import annotations

import anyio
from fastapi import APIRouter
from lurescan.model.listing import JobListing
from lurescan.model.scoring import ListingScore

from ... import crud
from ...app_state import AppState
from ...core.errors import ApiError, error_responses
from ...core.metrics import LISTINGS_FLAGGED, LISTINGS_SCORED, REQUEST_BATCH, SCAM_PROBABILITY
from ..deps import BatchClientDep, ClientDep, StateDep
from ..schemas import BatchRequest, BatchResult, ScoreRequest, ScoreResult

router = APIRouter(prefix="/v1", tags=["scoring"])

ERRORS = error_responses(400, 401, 403, 413, 415, 422, 429, 503)


def _result(score: ListingScore, stored_id: int | None = None) -> ScoreResult:
    # dict(score) keeps the validated Reason objects, so they are not validated again.
    return ScoreResult(**dict(score), stored_id=stored_id)


async def score_listings(
    state: AppState, client_name: str, listings: list[JobListing], threshold: float | None, store: bool, endpoint: str
) -> list[ScoreResult]:
    if store and not state.settings.store_texts:
        raise ApiError(
            403, "storage_disabled", "this server is configured not to store listing text; send `store: false`"
        )
    # Fields are read whole (the body limit bounds them); the scorer limits the read text (max_field_chars).
    kept = listings
    scores = await state.scoring.score(kept, threshold)
    stored_ids: list[int | None] = [None] * len(scores)
    if store:
        stored_ids = await anyio.to_thread.run_sync(crud.store_scored, state.db, client_name, kept, scores)
    LISTINGS_SCORED.labels(endpoint).inc(len(scores))
    for scored in scores:
        SCAM_PROBABILITY.labels(endpoint, scored.language).observe(scored.scam_probability)
    flagged = sum(s.flagged for s in scores)
    if flagged:
        LISTINGS_FLAGGED.labels(endpoint).inc(flagged)
    return [_result(s, sid) for s, sid in zip(scores, stored_ids)]


@router.post(
    "/score",
    response_model=ScoreResult,
    responses=ERRORS,
    summary="Score one listing",
    description=(
        "Send structured fields, or raw `text`/`html` from a page. Returns the scam probability, the decision at the "
        "threshold (yours, else your API key's, else the model's), a risk level and the red flags found, each with `field`, `start` and `end` "
        "indexing that field exactly as you sent it, so a page can highlight them as is.\n\n"
        "**Offsets.** `start`/`end` count code points (Python string indices); `start_utf16`/`end_utf16` count "
        "UTF-16 code units (JavaScript: `field.slice(start_utf16, end_utf16) === text`). For `html`, "
        "`visible_start`/`visible_end` (and `_utf16`) index the page's visible text, the data of its visible text "
        "nodes concatenated in document order (leaving out script, style, template, noscript, iframe, head and "
        "elements with `hidden` or an inline `display: none` / `visibility: hidden`), and `visible_text` quotes it; "
        "walk the text nodes, count their lengths, and build a DOM Range.\n\n"
        "**Pages.** `html` is read as its visible text; block elements and `<br>` read as line breaks and the "
        "targets of messenger links (t.me, wa.me, line.me, ...) are read too. The server's limit on characters "
        "per field applies to that read text: a longer one is read on its first half and its end, "
        "`content_dropped` says so and `scored_ranges` give the spans of each field that were read. "
        "`truncated` is about the model window only (the classifier reads the head and tail of long texts; "
        "red flags are looked for in everything read)."
    ),
)
async def score(body: ScoreRequest, client: ClientDep, state: StateDep) -> ScoreResult:
    threshold = body.threshold if body.threshold is not None else client.threshold
    [result] = await score_listings(state, client.name, [body.as_listing()], threshold, body.store, "single")
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
        state,
        client.name,
        [item.as_listing() for item in body.listings],
        body.threshold if body.threshold is not None else client.threshold,
        body.store,
        "batch",
    )
    return BatchResult(results=results)
