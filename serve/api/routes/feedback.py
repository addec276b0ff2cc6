"""Moderators' verdicts, stored durably for retraining (`lurescan feedback export`)."""

from __future__ import annotations

import hashlib
import json
from datetime import timezone
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Response

from ... import crud
from ...core.errors import ApiError, error_responses
from ...core.metrics import FEEDBACK
from ..deps import ClientDep, StateDep
from ..schemas import FeedbackReceipt, FeedbackRequest

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackReceipt,
    responses=error_responses(400, 401, 404, 409, 413, 415, 422, 429, 503),
    summary="Record a moderator's verdict on a listing",
    description=(
        "Stores the verdict (scam, legitimate or unsure), the note, the model version and score the moderator saw "
        "(scored now if you do not send them) and the listing's text, which is what retraining needs. Send the "
        "listing itself, or the `stored_id` of a listing scored with `store: true`. The row is committed before "
        "the 201 answer."
    ),
)
async def feedback(
    body: FeedbackRequest,
    client: ClientDep,
    state: StateDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=128,
            pattern=r"^[\x21-\x7e]+$",
            description="Any unique text per verdict (e.g. a UUID): a retry with the same key and body returns "
            "the first row instead of adding another; the same key with another body is 409.",
        ),
    ] = None,
) -> FeedbackReceipt:
    settings = state.settings
    idempotency = None
    if idempotency_key is not None:
        digest = hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        idempotency = (idempotency_key, digest)
        try:
            earlier = await anyio.to_thread.run_sync(crud.find_idempotent, state.db, client.name, *idempotency)
        except crud.IdempotencyConflict:
            raise _conflict(idempotency_key) from None
        if earlier is not None:
            response.headers["Idempotent-Replayed"] = "true"
            return _receipt(earlier, settings.store_texts)
    if body.note is not None and len(body.note) > settings.max_note_chars:
        raise ApiError(
            422, "validation_error", f"note: at most {settings.max_note_chars} characters ({len(body.note)} sent)"
        )
    model_version, probability = body.model_version, body.scam_probability
    if body.stored_id is not None:
        found = await anyio.to_thread.run_sync(crud.get_stored_scored, state.db, client.name, body.stored_id)
        if found is None:
            raise ApiError(404, "not_found", f"no stored listing {body.stored_id} for this API key")
        # The server scored it: its model version and score are recorded, not the client's copy of them.
        listing, model_version, probability = found
    else:
        listing = body.listing.as_listing()
    language = listing.language
    if probability is None:
        [score] = await state.scoring.score([listing])
        model_version, probability, language = score.model_version, score.scam_probability, score.language
    elif model_version is None and state.holder.scorer is not None:
        model_version = state.holder.scorer.model_version  # a score sent without its version: the model serving now
    def add_row():
        return crud.add_feedback(
            state.db,
            api_key=client.name,
            verdict=body.verdict,
            note=body.note,
            listing=listing,
            language=language,
            model_version=model_version,
            scam_probability=probability,
            stored_id=body.stored_id,
            keep_text=settings.store_texts,
            idempotency=idempotency,
        )

    try:
        row, replayed = await anyio.to_thread.run_sync(add_row)
    except crud.IdempotencyConflict:
        raise _conflict(idempotency_key) from None
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    else:
        FEEDBACK.labels(body.verdict).inc()
    return _receipt(row, settings.store_texts)


def _receipt(row, text_stored: bool) -> FeedbackReceipt:
    created = row.created_at
    if created.tzinfo is None:  # SQLite reads its UTC timestamps back without a zone
        created = created.replace(tzinfo=timezone.utc)
    return FeedbackReceipt(
        id=row.id,
        verdict=row.verdict,
        created_at=created,
        model_version=row.model_version,
        scam_probability=row.scam_probability,
        text_stored=text_stored,
    )


def _conflict(key: str) -> ApiError:
    return ApiError(409, "idempotency_conflict", f"Idempotency-Key {key!r} was already used with a different request")
