"""Scoring listings with any bundle: probability, decision, risk level, reasons.

`Scorer` is the one entry point shared by `lurescan score`, the API and the
Ray driver. It prepares listings once, asks the bundle's model for
probabilities in one vectorised call, and maps red-flag spans back to the
fields exactly as the caller sent them.
"""

from __future__ import annotations

import logging
import warnings
from typing import Callable, Optional, Sequence, Union

import numpy as np
from pydantic import BaseModel, Field

from .bundle import Bundle, BundleError, load_estimator, read_bundle
from .features import ListingLike, PreparedListing, prepare_many
from .kinds import TRAFFICKING, category_scores
from .language import detect_language
from .listing import HTML_FIELD
from .offsets import TextRange, add_offset_units
from .reading import read_field, scored_raw_spans
from .redflags.engine import RedFlagMatch, default_engine
from .threshold import risk_level

log = logging.getLogger(__name__)

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


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
    rule_id: Optional[str] = Field(default=None, description="The rule that matched.")
    scam_kind: Optional[str] = Field(
        default=None, description="The kind of job scam the sign belongs to (see /v1/model `categories`), or `general`."
    )
    decisive: bool = Field(
        default=False, description="A documented trafficking indicator: it flags the listing whatever the score."
    )

    # Offsets for JavaScript and for pages (model/offsets.py).
    start_utf16: Optional[int] = Field(
        default=None,
        description="`start` in UTF-16 code units, for JavaScript: `value.slice(start_utf16, end_utf16) === text` "
        "(an emoji counts 2).",
        examples=[28],
    )
    end_utf16: Optional[int] = Field(default=None, description="`end` in UTF-16 code units.", examples=[36])
    visible_start: Optional[int] = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="`html` only: start in the page's visible text (the data of its visible text nodes, concatenated "
        "in document order), in code points. A flag in a link's target maps to the link's own text.",
        examples=[12],
    )
    visible_end: Optional[int] = Field(
        default=None, exclude_if=lambda v: v is None, description="`html` only: end in the visible text, code points."
    )
    visible_start_utf16: Optional[int] = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="`html` only: `visible_start` in UTF-16 code units, to walk DOM text nodes with.",
        examples=[13],
    )
    visible_end_utf16: Optional[int] = Field(
        default=None, exclude_if=lambda v: v is None, description="`html` only: `visible_end` in UTF-16 code units."
    )
    visible_text: Optional[str] = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="`html` only: the flag as a reader sees it, without markup (`visible[visible_start:visible_end]`).",
        examples=["Telegram @hr_kh_2024"],
    )


class ListingScore(BaseModel):
    id: Optional[str] = None
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
    decided_by: Optional[Reason] = Field(
        default=None,
        description="Set when a decisive trafficking rule flagged the listing although scam_probability < threshold; null when the classifier decided.",
    )


def raw_reasons(prepared: PreparedListing, max_reasons: int = 20) -> list[Reason]:
    """Risk red flags with spans mapped to the raw fields, most severe first."""
    risky = [m for m in prepared.matches if m.kind == "risk"]
    if not risky:
        return []
    by_field: dict[str, list[RedFlagMatch]] = {}
    for m in risky:
        by_field.setdefault(m.field, []).append(m)
    reasons = []
    for field, matches in by_field.items():
        raw = getattr(prepared.listing, field)
        mapped = read_field(raw, prepared.max_field_chars, page=field == HTML_FIELD)
        if mapped.text != prepared.clean_fields[field]:  # pragma: no cover - guarded by tests
            log.warning("normalisation mismatch in field %s; spans skipped", field)
            continue
        for m in matches:
            start, end = mapped.to_raw(m.start, m.end)
            reasons.append(
                Reason(
                    category=m.category,
                    severity=m.severity,
                    field=field,
                    start=start,
                    end=end,
                    text=raw[start:end],
                    explanation=m.explanation,
                    rule_id=m.rule_id,
                    scam_kind=m.scam_kind,
                    decisive=m.decisive,
                )
            )
    reasons.sort(key=lambda r: (SEVERITY_ORDER.get(r.severity, 3), r.field, r.start))
    return reasons[:max_reasons]


class Scorer:
    """A loaded bundle, ready to score listings (thread-safe for reads)."""

    def __init__(self, bundle: Bundle, predict_proba: Callable[[list[PreparedListing]], np.ndarray], max_chars: int):
        self.bundle = bundle
        self._predict_proba = predict_proba
        self.max_chars = max_chars
        # Longest read text per field (None: no limit); longer ones are read on head and tail (reading.py).
        self.max_field_chars: Optional[int] = None
        self.engine = default_engine()
        self.kind_heads = _load_kind_heads(bundle)
        fingerprint = bundle.manifest.get("redflag_ruleset")
        if fingerprint and fingerprint != self.engine.ruleset.fingerprint:
            warnings.warn(
                f"{bundle.path}: trained with other red-flag rules ({fingerprint[:12]}…) than installed "
                f"({self.engine.ruleset.fingerprint[:12]}…); scores may drift, retrain to align",
                stacklevel=2,
            )

    @property
    def threshold(self) -> float:
        return self.bundle.threshold

    @property
    def model_version(self) -> str:
        return self.bundle.model_version

    def prepare(self, listings: Sequence[ListingLike]) -> list[PreparedListing]:
        return prepare_many(listings, engine=self.engine, max_chars=self.max_chars, max_field_chars=self.max_field_chars)

    def predict_proba(self, listings: Sequence[Union[ListingLike, PreparedListing]]) -> np.ndarray:
        """P(scam) for each listing, one vectorised model call."""
        prepared = self.prepare(listings)
        if not prepared:
            return np.zeros(0)
        # Kept inside (0, 1) at the six decimals the API shows: a calibrated model never
        # claims certainty, and a threshold of 1.0 must be able to flag nothing.
        return np.clip(np.asarray(self._predict_proba(prepared), dtype=float), PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)

    def score(
        self,
        listings: Sequence[Union[ListingLike, PreparedListing]],
        threshold: Optional[float] = None,
        explain: bool = True,
    ) -> list[ListingScore]:
        prepared = self.prepare(listings)
        if not prepared:
            return []
        probs = self.predict_proba(prepared)
        cut = self.threshold if threshold is None else float(threshold)
        medium = min(self.bundle.medium_threshold, cut)
        out = []
        for p, prob, categories in zip(prepared, probs, category_scores(probs, prepared, self.kind_heads)):
            language = p.listing.language or detect_language("\n".join(p.clean_fields.values()))
            shown = round(float(prob), 6)
            # Decided on the number the caller sees, so the two never disagree.
            flagged = bool(shown >= cut)
            decisive = not flagged and has_decisive_rule(p)
            reasons = (raw_reasons(p) + p.extras.get("evidence", [])) if explain or decisive else []
            # The decisive reason itself, with its span in every unit the other reasons have.
            decision = next((r for r in reasons if isinstance(r, Reason) and r.decisive), None) if decisive else None
            scored = [
                (name, start, end)
                for name, chars in p.read_chars.items()
                for start, end in scored_raw_spans(getattr(p.listing, name), chars, p.max_field_chars, page=name == HTML_FIELD)
            ]
            out.append(
                ListingScore(
                    id=p.listing.id,
                    scam_probability=shown,
                    flagged=flagged or decision is not None,
                    threshold=cut,
                    risk_level="high" if decision is not None else risk_level(shown, cut, medium),
                    # Red flags first; then any model evidence a predictor attached (ensemble: n-grams).
                    reasons=reasons if explain else [],
                    language=language,
                    model_version=self.model_version,
                    truncated=p.truncated,
                    categories=categories,
                    category_flags={
                        k: (v >= 1.0 if k == TRAFFICKING else v >= cut) for k, v in categories.items()
                    },
                    decided_by=decision,
                    content_dropped=p.content_dropped,
                    scored_ranges=add_offset_units(reasons, p.listing, scored),
                )
            )
        return out


PROBABILITY_FLOOR = 1e-6


def decisive_flags(prepared: Sequence[PreparedListing]) -> np.ndarray:
    """One bool per listing: a decisive trafficking rule flags it whatever its score."""
    return np.array([has_decisive_rule(p) for p in prepared], dtype=bool)


def has_decisive_rule(prepared: PreparedListing) -> bool:
    """Whether a listing holds a decisive trafficking indicator."""
    return any(m.decisive and m.kind == "risk" for m in prepared.matches)


def _load_kind_heads(bundle: Bundle):
    """The bundle's scam-kind heads, or None (older bundles, transformer bundles): rules decide the shares."""
    if "kinds.json" not in bundle.manifest.get("files", {}):
        return None
    return load_estimator(bundle, "kinds")


def _baseline_predictor(bundle: Bundle):
    model = load_estimator(bundle, "model")
    # The bundle stores FixedThresholdClassifier(FrozenEstimator(classifier)); the wrappers pass
    # probabilities through unchanged (the threshold is in the manifest) and cost a deep copy
    # of their tags on every call, so scoring asks the classifier itself.
    inner = getattr(getattr(model, "estimator", None), "estimator", model)
    max_chars = inner.vectorizer_.max_chars if hasattr(inner, "vectorizer_") else 6000
    return (lambda prepared: inner.predict_proba(prepared)[:, 1]), max_chars


def _lazy_predictor(module: str) -> Callable:
    """A PREDICTORS entry that imports its module (onnxruntime, ...) only when such a bundle is loaded."""

    def load(bundle: Bundle):
        import importlib

        return importlib.import_module(module, __package__).load_predictor(bundle)

    return load


# kind -> function(bundle) returning (predict_proba(prepared) -> P(scam), max_chars)
PREDICTORS: dict[str, Callable] = {
    "baseline": _baseline_predictor,
    "transformer": _lazy_predictor(".transformer_scorer"),
    "ensemble": _lazy_predictor(".stacker"),
}


def load_scorer(path=None) -> Scorer:
    """Verify and load a bundle of any kind (default: the packaged bundle)."""
    bundle = read_bundle(path)
    loader = PREDICTORS.get(bundle.kind)
    if loader is None:
        raise BundleError(f"{bundle.path}: this installation cannot score '{bundle.kind}' bundles")
    predict, max_chars = loader(bundle)
    return Scorer(bundle, predict, max_chars)
