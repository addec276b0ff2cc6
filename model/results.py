"""What scoring returns: a listing's score and the reasons behind it.

Their own module, so every producer of reasons (the red flags in scoring.py,
the n-gram evidence in explain.py) and every consumer (the API schemas, the
bulk writers) imports the types without importing the scorer.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .offsets import TextRange


def _html_only(description: str, **kwargs: Any) -> Any:
    """A field only `html` input has, left out of the JSON when absent."""
    return Field(default=None, exclude_if=lambda v: v is None, description=f"`html` only: {description}", **kwargs)


class Reason(BaseModel):
    """Why a listing was scored as it was: a red flag with its span."""

    category: str = Field(description="Red-flag category, e.g. off_platform_contact.")
    severity: str = Field(description="low, medium or high.")
    field: str = Field(description="Listing field the span indexes, as sent by the caller.")
    start: int = Field(
        description="Start offset in that field as sent, before any normalisation, in code points (Python string "
        "indices; an emoji counts 1).",
        examples=[27],
    )
    end: int = Field(description="End offset (exclusive), in code points.", examples=[35])
    text: str = Field(description="The matched text, exactly as in the field (`field[start:end]`).")
    explanation: str = Field(description="What the flag means, in English.")
    rule_id: str | None = Field(default=None, description="The rule that matched.")
    scam_kind: str | None = Field(
        default=None, description="The kind of job scam the sign belongs to (see /v1/model `categories`), or `general`."
    )
    decisive: bool = Field(
        default=False, description="A documented trafficking indicator: it flags the listing whatever the score."
    )

    # Offsets for JavaScript and for pages (model/offsets.py).
    start_utf16: int | None = Field(
        default=None,
        description="`start` in UTF-16 code units, for JavaScript: `value.slice(start_utf16, end_utf16) === text` "
        "(an emoji counts 2).",
        examples=[28],
    )
    end_utf16: int | None = Field(default=None, description="`end` in UTF-16 code units.", examples=[36])
    visible_start: int | None = _html_only(
        "start in the page's visible text (the data of its visible text nodes, concatenated in document order), in "
        "code points. A flag in a link's target maps to the link's own text.",
        examples=[12],
    )
    visible_end: int | None = _html_only("end in the visible text, code points.")
    visible_start_utf16: int | None = _html_only(
        "`visible_start` in UTF-16 code units, to walk DOM text nodes with.", examples=[13]
    )
    visible_end_utf16: int | None = _html_only("`visible_end` in UTF-16 code units.")
    visible_text: str | None = _html_only(
        "the flag as a reader sees it, without markup (`visible[visible_start:visible_end]`).",
        examples=["Telegram @hr_kh_2024"],
    )


class ListingScore(BaseModel):
    id: str | None = None
    scam_probability: float = Field(ge=0.0, le=1.0, description="Calibrated probability that the ad is a scam lure.")
    flagged: bool = Field(description="scam_probability >= threshold.")
    threshold: float
    risk_level: str = Field(description="high (flagged), medium (the band below the threshold), or low.")
    reasons: list[Reason]
    language: str
    model_version: str
    truncated: bool = Field(
        description="The model window: the read text was longer than the classifier's window, which took its head "
        "and tail. Red flags were still looked for in everything read; see `content_dropped` for text not read at all."
    )
    content_dropped: bool = Field(
        default=False,
        description="Some text was not read: a field's read text (for `html`, its visible text) was longer than the "
        "server's limit and only its head and tail were read (`scored_ranges`).",
    )
    scored_ranges: list[TextRange] = Field(
        default_factory=list, description="The spans of each field as sent that were read and scored."
    )
    categories: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "One score in [0, 1] per scam kind (overseas_lure, fake_cheque, money_mule, task_scam, ...): "
            "P(scam) x P(kind | scam); `trafficking` is 1 when a decisive indicator is present. "
            "GET /v1/model lists the kinds and how each is computed."
        ),
        examples=[{"overseas_lure": 0.91, "trafficking": 1.0, "fake_cheque": 0.0}],
    )
    category_flags: dict[str, bool] = Field(
        default_factory=dict,
        description="Per scam kind: its score >= threshold (trafficking: a decisive indicator is present).",
    )
    decided_by: Reason | None = Field(
        default=None,
        description="Set when a decisive trafficking rule flagged the listing although scam_probability < threshold; null when the classifier decided.",
    )
