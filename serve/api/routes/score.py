"""Scoring: one listing, or a batch in one vectorised model call."""

from __future__ import annotations

import anyio
from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from lurescan.model.listing import JobListing
from lurescan.model.results import ListingScore

from ... import crud
from ...app_state import AppState
from ...core.errors import EMPTY_LISTING, ApiError, error_responses
from ...core.metrics import LISTINGS_FLAGGED, LISTINGS_SCORED, REQUEST_BATCH, SCAM_PROBABILITY
from ..deps import BatchClientDep, ClientDep, StateDep
from ..schemas import BatchRequest, BatchResult, ItemError, ItemErrorBody, ListingIn, ScoreRequest, ScoreResult

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
    if body.ignored_fields and state.settings.strict_fields:
        raise RequestValidationError(_unknown_field_errors(body.ignored_fields, ("body",)))
    threshold = body.threshold if body.threshold is not None else client.threshold
    [result] = await score_listings(state, client.name, [body.as_listing()], threshold, body.store, "single")
    result.warnings = _unknown_field_warnings(body.ignored_fields)
    return result


def _unknown_field_errors(names: list[str], loc: tuple) -> list[dict]:
    return [{"loc": (*loc, name), "msg": "Extra inputs are not permitted", "type": "extra_forbidden"} for name in names]


def _unknown_field_warnings(names: list[str]) -> list[str]:
    return [f"unknown field {name!r} ignored (strict_fields would refuse it)" for name in names]


@router.post(
    "/score/batch",
    response_model=BatchResult,
    responses=ERRORS,
    summary="Score many listings in one call",
    description=(
        "Up to the server's batch limit (see the API description; 413 `too_many_items` beyond it). Results come back "
        "in request order, each with its `id`. The batch is scored in one vectorised model call. Each listing costs "
        "one token of your rate limit, counted before validation: an invalid batch costs what it asked for. With "
        "`per_item: true` an invalid listing (or one over the scoring budget) gets an error in its own `results[i]` "
        "and the others are scored."
    ),
)
async def score_batch(body: BatchRequest, client: BatchClientDep, state: StateDep) -> BatchResult:
    limit = state.settings.max_batch_items
    if len(body.listings) > limit:  # the raw-body precheck counts objects; this counts what was validated
        raise ApiError(
            413, "too_many_items", f"a batch holds at most {limit} listings; this one has {len(body.listings)}"
        )
    REQUEST_BATCH.observe(len(body.listings))
    threshold = body.threshold if body.threshold is not None else client.threshold
    valid: dict[int, ListingIn] = {}
    problems: dict[int, list[dict]] = {}
    for i, item in enumerate(body.listings):
        try:
            valid[i] = ListingIn.model_validate(item)
        except ValidationError as exc:
            problems[i] = [{**e, "loc": ("body", "listings", i, *e["loc"])} for e in exc.errors()]
            continue
        if valid[i].ignored_fields and state.settings.strict_fields:
            problems[i] = _unknown_field_errors(valid.pop(i).ignored_fields, ("body", "listings", i))
    if problems and not body.per_item:
        raise RequestValidationError([e for i in sorted(problems) for e in problems[i]])
    results: dict[int, ScoreResult | ItemError] = {i: _item_error(body.listings[i], errs) for i, errs in problems.items()}
    order = sorted(valid)
    listings = [valid[i].as_listing() for i in order]
    if listings:
        try:
            scored = await score_listings(state, client.name, listings, threshold, body.store, "batch")
            for i, result in zip(order, scored):
                result.warnings = _unknown_field_warnings(valid[i].ignored_fields)
            results.update(zip(order, scored))
        except ApiError as exc:
            if not body.per_item or exc.type != "scoring_budget_exceeded":
                raise
            # One listing over its budget: score them one by one, so only that one is an error.
            for i, listing in zip(order, listings):
                try:
                    [results[i]] = await score_listings(state, client.name, [listing], threshold, body.store, "batch")
                except ApiError as one:
                    if one.type != "scoring_budget_exceeded":
                        raise
                    results[i] = ItemError(id=listing.id, error=ItemErrorBody(type=one.type, message=one.message))
    return BatchResult(results=[results[i] for i in range(len(body.listings))])


def _item_error(item: dict, errors: list[dict]) -> ItemError:
    """A per-item error in the same terms as a whole-request 422."""
    details = [{"loc": [p for p in e["loc"] if p != "body"], "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors]
    empty = all(d["type"] == EMPTY_LISTING for d in details)
    first = details[0]
    where = ".".join(map(str, first["loc"]))
    message = "listing has no text" if empty else f"{where}: {first['msg']}" + (f" (and {len(details) - 1} more)" if len(details) > 1 else "")
    item_id = item.get("id")
    return ItemError(
        id=str(item_id)[:256] if isinstance(item_id, (str, int)) else None,
        error=ItemErrorBody(type=EMPTY_LISTING if empty else "validation_error", message=message, details=details[:20]),
    )
