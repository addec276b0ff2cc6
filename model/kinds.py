"""Per-category scores: which kind of job scam a listing looks like.

A moderator acts differently on a fake-cheque ad than on a scam-compound
lure, so every score carries one number per scam kind (`categories.yaml`,
`scam_kinds`), as content-moderation APIs do:

    categories[kind] = P(scam) * P(kind | scam)

P(scam) is the calibrated classifier; P(kind | scam) is `ScamKindHeads`, a
multinomial logistic regression on the red-flag features, fitted on the scam
ads whose kind is known (the project's corpus labels every ad with one).
Kinds the heads were not trained on, and bundles without heads, use the
rules' own evidence instead: the share of the listing's kind-specific red
flags (severity-weighted) that belong to that kind. `trafficking` is 1 when a
decisive trafficking indicator is present (see `ListingScore.decided_by`), because that is a
documented fact in the ad rather than a guess.

Each score is at most P(scam), so a kind's flag (`score >= threshold`) never
contradicts the overall decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from .features import PreparedListing, redflag_block
from .redflags.engine import default_engine
from .redflags.features import RedFlagFeatures
from .redflags.rules import GENERAL_KIND, SEVERITY_LEVELS

TRAFFICKING = "trafficking"


def scam_kinds() -> dict[str, str]:
    """Every scam kind and its description, in categories.yaml order."""
    return {name: kind.description for name, kind in default_engine().ruleset.scam_kinds.items()}


class ScamKindHeads(ClassifierMixin, BaseEstimator):
    """P(kind | scam) from red-flag features.

    Parameters
    ----------
    C : inverse L2 strength of the multinomial logistic regression.
    min_positives : kinds with fewer scam ads than this are left to the rules.
    """

    def __init__(self, C: float = 1.0, min_positives: int = 10, max_iter: int = 2000, random_state: int = 0):
        self.C = C
        self.min_positives = min_positives
        self.max_iter = max_iter
        self.random_state = random_state

    def _features(self, prepared: Sequence[PreparedListing]) -> np.ndarray:
        # The same rows the classifier read (features.redflag_block keeps them on each listing).
        return redflag_block(prepared, self.redflag_names_)

    def fit(self, prepared: Sequence[PreparedListing], kinds: Sequence[str | None]):
        """`prepared`, `kinds`: scam ads and their kind (None or "" where unknown, e.g. EMSCAD)."""
        known = set(default_engine().ruleset.scam_kinds)
        pairs = [(p, k) for p, k in zip(prepared, kinds) if isinstance(k, str) and k in known]
        counts = Counter(k for _, k in pairs)
        classes = sorted(k for k, n in counts.items() if n >= self.min_positives)
        if len(classes) < 2:
            raise ValueError(
                f"scam-kind heads need at least two kinds with {self.min_positives}+ scam ads each; got {dict(counts)}"
            )
        pairs = [(p, k) for p, k in pairs if k in classes]
        self.redflag_names_ = RedFlagFeatures(default_engine().ruleset).names
        X = self._features([p for p, _ in pairs])
        y = np.array([k for _, k in pairs])
        self.linear_ = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.random_state).fit(X, y)
        self.classes_ = self.linear_.classes_
        self.n_train_ = {str(k): int(counts[k]) for k in classes}
        return self

    def predict_proba(self, prepared: Sequence[PreparedListing]) -> np.ndarray:
        check_is_fitted(self, "linear_")
        if not prepared:
            return np.zeros((0, len(self.classes_)))
        return self.linear_.predict_proba(self._features(prepared))


def rule_shares(prepared: PreparedListing) -> dict[str, float]:
    """The share of each scam kind among the listing's kind-specific risk flags (severity-weighted)."""
    weights: Counter = Counter()
    seen = set()
    for m in prepared.matches:
        if m.kind != "risk" or not m.scam_kind or m.scam_kind == GENERAL_KIND:
            continue
        key = (m.rule_id, m.text.casefold())
        if key in seen:
            continue
        seen.add(key)
        weights[m.scam_kind] += SEVERITY_LEVELS[m.severity]
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()} if total else {}


def category_scores(
    probabilities: np.ndarray,
    prepared: Sequence[PreparedListing],
    heads: ScamKindHeads | None = None,
) -> list[dict[str, float]]:
    """One {kind: score} per listing (see the module docstring for how each is computed)."""
    kinds = list(default_engine().ruleset.scam_kinds)
    learned = heads.predict_proba(prepared) if heads is not None and prepared else None
    classes = [str(c) for c in heads.classes_] if heads is not None else []
    out = []
    for i, (p_scam, p) in enumerate(zip(probabilities, prepared)):
        shares = rule_shares(p)
        scores = {}
        for kind in kinds:
            if learned is not None and kind in classes:
                share = float(learned[i, classes.index(kind)])
            else:
                share = shares.get(kind, 0.0)
            scores[kind] = round(float(p_scam) * share, 6)
        if any(m.decisive for m in p.matches):
            scores[TRAFFICKING] = 1.0
        out.append(scores)
    return out


def how_computed(kind: str, heads: ScamKindHeads | None) -> str:
    """What /v1/model says about one category score."""
    if heads is not None and kind in [str(c) for c in heads.classes_]:
        share = f"P({kind} | scam), a multinomial logistic regression on red-flag features ({heads.n_train_[kind]} training scams)"
    else:
        share = f"the share of {kind} red flags among the listing's kind-specific red flags (severity-weighted)"
    prefix = "1 when a decisive trafficking indicator is present; otherwise " if kind == TRAFFICKING else ""
    return f"{prefix}P(scam) x {share}"
