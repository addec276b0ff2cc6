"""Request and response bodies of the API (the OpenAPI page is built from these).

Listings reuse the one `JobListing` schema; the API adds only what a request
needs on top (a caller's threshold, `store`) and refuses unknown fields, so a
misspelt field name is an error rather than silently ignored text.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from lurescan.model.language import canonical_language_tag
from lurescan.model.listing import HTML_FIELD, TEXT_FIELDS, JobListing
from lurescan.model.reading import reads_empty
from lurescan.model.results import ListingScore

from ..core.errors import EMPTY_LISTING

EXAMPLE_AD = {
    "id": "ad-1042",
    "title": "Customer service staff, Cambodia",
    "salary": "$2,500/month",
    "text": "URGENT! Work in Sihanoukville, no experience needed, free flight and visa. Contact us on Telegram @hr_fastjob",
}


_LISTING_FIELDS = frozenset(JobListing.model_fields)
_SURROGATE = re.compile("[\ud800-\udfff\x00]")


def _valid_unicode(data: Any) -> Any:
    """Unpaired surrogates (JSON allows "\\ud800", UTF-8 does not) and NUL (PostgreSQL text cannot hold
    it: a 500 and a lost verdict, where SQLite stored it) become U+FFFD, one for one, so offsets hold."""
    if isinstance(data, dict):
        return {k: _SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for k, v in data.items()}
    return data


class ListingIn(JobListing):
    """A job ad: structured fields, or raw `text`/`html` from a page (at least one field with text)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_AD]})

    # Unknown fields of a listing that has text (`lang`, `source` from a CSV): set aside and
    # reported in the result's `warnings` (or refused with `strict_fields`). A listing whose only
    # text is under unknown names ("descripton") is still refused: the name is the likely typo.
    ignored_fields: SkipJsonSchema[list[str]] = Field(default_factory=list, exclude=True, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _unicode(cls, data: Any) -> Any:
        data = _valid_unicode(data)
        if isinstance(data, dict):
            unknown = [key for key in data if key not in cls.model_fields or key == "ignored_fields"]
            if unknown and any(isinstance(data.get(f), str) and data[f].strip() for f in TEXT_FIELDS):
                data = {key: value for key, value in data.items() if key not in unknown}
                data["ignored_fields"] = [str(key)[:64] for key in unknown]
        return data

    @model_validator(mode="after")
    def _has_text(self) -> ListingIn:
        if not self.has_text():
            raise PydanticCustomError(EMPTY_LISTING, "the listing has no text in any field")
        if all(reads_empty(value, page=name == HTML_FIELD) for name, value in self.text_fields()):
            raise PydanticCustomError(
                EMPTY_LISTING, "the listing has no text once read (only markup, comments, hidden or invisible characters)"
            )
        return self

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        """A BCP 47 tag of a language lurescan knows, in canonical case; anything else is an error."""
        return None if value is None else canonical_language_tag(value)

    def as_listing(self) -> JobListing:
        """The listing alone, without request options (its fields were validated as this model's)."""
        return JobListing.model_construct(
            _fields_set=self.model_fields_set & _LISTING_FIELDS, **{name: getattr(self, name) for name in _LISTING_FIELDS}
        )


Threshold = Field(
    default=None,
    ge=0.0,
    le=1.0,
    description="Your own decision threshold (default: your API key's threshold if it has one, else the model's; see GET /v1/model).",
)
Store = Field(
    default=False,
    description="Keep the listing and its score on the server (for later feedback by `stored_id`). Off by default: scoring stores nothing.",
)


class ScoreRequest(ListingIn):
    """One listing to score."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{**EXAMPLE_AD, "threshold": 0.5}]})

    threshold: float | None = Threshold
    store: bool = Store


class BatchRequest(BaseModel):
    """Listings to score in one vectorised call."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"listings": [EXAMPLE_AD, {"id": "ad-1043", "text": "Barista, part-time, Hanoi. Apply in store."}]}
            ]
        },
    )

    # Objects here, each validated as a ListingIn by the route: with `per_item`, one bad listing
    # is an error in its own result instead of a 422 for the whole batch.
    listings: list[dict[str, Any]] = Field(
        min_length=1,
        description="The listings (each a ListingIn); see the batch size limit in the endpoint description.",
        json_schema_extra={"items": {"$ref": "#/components/schemas/ListingIn"}},
    )
    threshold: float | None = Threshold
    store: bool = Store
    per_item: bool = Field(
        default=False,
        description="Answer a listing that is invalid (or cannot be scored) with an error in its own `results[i]` "
        "and score the others; off: any invalid listing makes the whole batch a 422.",
    )


class ScoreResult(ListingScore):
    """The score of one listing; reason offsets index each field exactly as you sent it."""

    warnings: list[str] = Field(
        default_factory=list,
        exclude_if=lambda v: not v,
        description="What was accepted but not used, e.g. unknown fields (present only when there is one).",
    )

    stored_id: int | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="Present when `store: true`: the stored listing's id, for feedback.",
    )


class ItemErrorBody(BaseModel):
    type: str = Field(description="The error type, as for a whole request (validation_error, empty_listing, ...).")
    message: str
    details: list[dict[str, Any]] | None = Field(default=None, exclude_if=lambda v: v is None)


class ItemError(BaseModel):
    """A listing of a `per_item` batch that was not scored, and why."""

    id: str | None = Field(default=None, description="The listing's `id`, if it sent one.")
    error: ItemErrorBody


class BatchResult(BaseModel):
    results: list[ScoreResult | ItemError] = Field(
        description="One result per listing, in request order: a score, or (with `per_item`) an error."
    )


class FeedbackRequest(BaseModel):
    """A moderator's verdict on a scored listing."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "verdict": "scam",
                    "note": "Telegram-only contact, Sihanoukville",
                    "listing": EXAMPLE_AD,
                    "model_version": "baseline-20260101-000000",
                    "scam_probability": 0.97,
                }
            ]
        },
    )

    verdict: Literal["scam", "legitimate", "unsure"]
    note: str | None = Field(default=None, description="Free text from the moderator.")
    listing: ListingIn | None = Field(default=None, description="The listing as it was scored (stored for retraining).")
    stored_id: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,  # a database BIGINT; larger gave 500 on both back ends
        description="Instead of `listing`: the `stored_id` from a `store: true` score request.",
    )
    model_version: str | None = Field(
        default=None,
        max_length=128,
        description="The model version the moderator saw (default: the model scoring now).",
    )
    scam_probability: float | None = Field(
        default=None, ge=0.0, le=1.0, description="The score the moderator saw (default: scored now)."
    )

    @model_validator(mode="before")
    @classmethod
    def _unicode(cls, data: Any) -> Any:
        return _valid_unicode(data)

    @model_validator(mode="after")
    def _one_listing(self) -> FeedbackRequest:
        if (self.listing is None) == (self.stored_id is None):
            raise PydanticCustomError("listing_required", "give exactly one of `listing` or `stored_id`")
        return self


class FeedbackReceipt(BaseModel):
    id: int = Field(description="The feedback row's id.")
    verdict: str
    created_at: datetime
    model_version: str | None
    scam_probability: float | None
    text_stored: bool = Field(
        description="Whether the listing text was kept (the server may be configured to keep verdicts only)."
    )


class TrainingFile(BaseModel):
    name: str
    rows: int | None = None
    labels: dict[str, int] = Field(default_factory=dict)
    sha256: str | None = None


class ScamKindInfo(BaseModel):
    name: str = Field(description="The key in each score's `categories` and `category_flags`.")
    description: str
    computed: str = Field(description="How this model computes the score.")


class ModelInfo(BaseModel):
    model_version: str
    kind: str
    created_at: str | None = None
    description: str | None = None
    threshold: float = Field(description="Default decision threshold: flagged when scam_probability >= threshold.")
    key_threshold: float | None = Field(
        default=None, description="Your API key's own default threshold, when it has one (it replaces `threshold` for you)."
    )
    categories: list[ScamKindInfo] = Field(
        default_factory=list, description="The per-category scores every result carries, and how each is computed."
    )
    medium_risk_threshold: float = Field(description="Lower bound of the medium risk band.")
    threshold_rule: str | None = None
    target_precision: float | None = None
    languages: list[str] = Field(default_factory=list, description="Languages seen in training.")
    metrics: dict[str, Any] = Field(
        default_factory=dict, description="Evaluation on the held-out validation and test splits."
    )
    training_data: list[TrainingFile] = Field(default_factory=list)
    split: dict[str, Any] = Field(default_factory=dict, description="How training data was split (grouped, seeded).")


class ReloadResult(BaseModel):
    previous_version: str | None
    model_version: str
    changed: bool


class Health(BaseModel):
    status: str
    model_version: str | None = Field(default=None, exclude_if=lambda v: v is None)
