"""Scoring listings with any bundle: probability, decision, risk level, reasons.

`Scorer` is the one entry point shared by `lurescan score`, the API and the
Ray driver. It prepares listings once, asks the bundle's model for
probabilities in one vectorised call, and maps red-flag spans back to the
fields exactly as the caller sent them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .bundle import Bundle, load_estimator, read_bundle
from .features import ListingLike, PreparedListing, prepare_many
from .kinds import TRAFFICKING, category_scores
from .language import detect_language
from .offsets import add_offset_units
from .predictors import PROBABILITY_FLOOR, Predictor, load_predictor
from .reasons import red_flag_reasons
from .redflags.engine import default_engine
from .results import ListingScore, Reason
from .threshold import risk_level

__all__ = ["ListingScore", "Reason", "Scorer", "decisive_flags", "has_decisive_rule", "load_scorer"]


class Scorer:
    """A loaded bundle, ready to score listings (thread-safe for reads)."""

    def __init__(self, bundle: Bundle, predictor: Predictor):
        self.bundle = bundle
        self.predictor = predictor
        self.max_chars = predictor.max_chars
        # Longest read text per field (None: no limit); longer ones are read on head and tail (reading.py).
        self.max_field_chars: int | None = None
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

    def prepare(self, listings: Sequence[ListingLike | PreparedListing]) -> list[PreparedListing]:
        return prepare_many(listings, engine=self.engine, max_chars=self.max_chars, max_field_chars=self.max_field_chars)

    def scam_probability(self, listings: Sequence[ListingLike | PreparedListing]) -> np.ndarray:
        """P(scam) for each listing (shape (n,)), one vectorised model call."""
        return self._scam_probability(self.prepare(listings))

    def _scam_probability(self, prepared: Sequence[PreparedListing]) -> np.ndarray:
        if not prepared:
            return np.zeros(0)
        p = np.asarray(self.predictor.scam_probability(prepared), dtype=float)
        return np.clip(p, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)

    def score(
        self,
        listings: Sequence[ListingLike | PreparedListing],
        threshold: float | None = None,
        explain: bool = True,
    ) -> list[ListingScore]:
        prepared = self.prepare(listings)
        if not prepared:
            return []
        probs = self._scam_probability(prepared)
        cut = self.threshold if threshold is None else float(threshold)
        medium = min(self.bundle.medium_threshold, cut)
        out = []
        for p, prob, categories in zip(prepared, probs, category_scores(probs, prepared, self.kind_heads)):
            language = p.listing.language or detect_language("\n".join(p.clean_fields.values()))
            shown = round(float(prob), 6)
            # Decided on the number the caller sees, so the two never disagree.
            flagged = bool(shown >= cut)
            decisive = not flagged and has_decisive_rule(p)
            reasons = (red_flag_reasons(p) + p.extras.get("evidence", [])) if explain or decisive else []
            # The decisive reason itself, with its span in every unit the other reasons have.
            decision = next((r for r in reasons if r.decisive), None) if decisive else None
            scored = [(name, start, end) for name in p.read_chars for start, end in p.scored_ranges(name)]
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


def load_scorer(path=None) -> Scorer:
    """Verify and load a bundle of any kind (default: the packaged bundle)."""
    bundle = read_bundle(path)
    return Scorer(bundle, load_predictor(bundle))
