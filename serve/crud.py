"""Writing and reading the API's rows (feedback, stored listings).

Blocking SQLAlchemy calls: routes run them in a worker thread. Every read is
scoped to the caller's key, so one client never sees another's listings.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lurescan.model.listing import JobListing
from lurescan.model.results import ListingScore

from .db import LISTING_COLUMNS, Database, Feedback, FeedbackIdempotency, StoredListing


def listing_columns(listing: JobListing | None, language: str | None, keep_text: bool) -> dict:
    if listing is None or not keep_text:
        return {"language": language}
    values = {name: getattr(listing, name) for name in LISTING_COLUMNS}
    values["language"] = language
    return values


def store_scored(
    db: Database, api_key: str, listings: Sequence[JobListing], scores: Sequence[ListingScore]
) -> list[int]:
    rows = [
        StoredListing(
            api_key=api_key,
            listing_id=listing.id,
            model_version=score.model_version,
            scam_probability=score.scam_probability,
            flagged=score.flagged,
            threshold=score.threshold,
            **listing_columns(listing, score.language, keep_text=True),
        )
        for listing, score in zip(listings, scores)
    ]
    with db.session() as session, session.begin():
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def get_stored_scored(db: Database, api_key: str, stored_id: int) -> tuple[JobListing, str, float] | None:
    """A stored listing with the model version and score the server gave it (what the moderator saw)."""
    with db.session() as session:
        row = session.scalar(
            select(StoredListing).where(StoredListing.id == stored_id, StoredListing.api_key == api_key)
        )
        if row is None:
            return None
        fields = {name: getattr(row, name) for name in LISTING_COLUMNS}
        return JobListing(id=row.listing_id, language=row.language, **fields), row.model_version, row.scam_probability


def add_feedback(
    db: Database,
    api_key: str,
    verdict: str,
    note: str | None,
    listing: JobListing,
    language: str | None,
    model_version: str | None,
    scam_probability: float | None,
    stored_id: int | None,
    keep_text: bool,
    idempotency: tuple[str, str] | None = None,
) -> tuple[Feedback, bool]:
    """Insert and commit one feedback row; returns it once it is durable, and whether it was
    already there: with `idempotency` = (key, request sha256), a key seen before returns its row."""
    if idempotency is not None:
        earlier = find_idempotent(db, api_key, *idempotency)
        if earlier is not None:
            return earlier, True
    row = Feedback(
        api_key=api_key,
        listing_id=listing.id,
        stored_listing_id=stored_id,
        verdict=verdict,
        note=note,
        model_version=model_version,
        scam_probability=scam_probability,
        **listing_columns(listing, language, keep_text),
    )
    try:
        with db.session() as session, session.begin():
            session.add(row)
            if idempotency is not None:
                session.flush()
                session.add(
                    FeedbackIdempotency(
                        api_key=api_key, key=idempotency[0], request_sha256=idempotency[1], feedback_id=row.id
                    )
                )
    except IntegrityError:
        if idempotency is None:
            raise
        # A concurrent retry with the same key committed first: this one is rolled back entirely.
        earlier = find_idempotent(db, api_key, *idempotency)
        if earlier is None:  # pragma: no cover - the constraint fired, so the row exists
            raise
        return earlier, True
    return row, False


class IdempotencyConflict(ValueError):
    """An Idempotency-Key reused with a different request."""


def find_idempotent(db: Database, api_key: str, key: str, request_sha256: str) -> Feedback | None:
    """The feedback row an earlier request with this key created (IdempotencyConflict: another body)."""
    with db.session() as session:
        seen = session.scalar(
            select(FeedbackIdempotency).where(FeedbackIdempotency.api_key == api_key, FeedbackIdempotency.key == key)
        )
        if seen is None:
            return None
        if seen.request_sha256 != request_sha256:
            raise IdempotencyConflict(key)
        return session.get(Feedback, seen.feedback_id)
