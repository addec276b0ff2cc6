"""A fixed-length feature vector from red-flag matches.

One lure alone is weak evidence ("accommodation provided" in a hotel's ad,
"WhatsApp us" from a shop), a combination is strong. So besides per-category
presence, count and severity, the vector carries every pair of risk
categories and the number of distinct risk categories, and the mitigating
categories (licences, official programmes, company identity) that weigh
against them, and whether the ad's lures are all weak (low severity). The layout depends only on `categories.yaml`, not on the rules,
so rules can be added without breaking a trained model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import combinations

import numpy as np

from .engine import RedFlagMatch
from .rules import SEVERITY_LEVELS, RuleSet


class RedFlagFeatures:
    """`risk`, `mitigating`, `context`: the categories to lay out (default: all of the rule set's).

    A trained model passes the categories it was trained with, so categories
    added to `categories.yaml` later are ignored by it instead of breaking it.
    """

    def __init__(
        self,
        ruleset: RuleSet,
        risk: Sequence[str] | None = None,
        mitigating: Sequence[str] | None = None,
        context: Sequence[str] | None = None,
    ) -> None:
        self.risk = list(ruleset.risk_categories if risk is None else risk)
        self.mitigating = list(ruleset.mitigating_categories if mitigating is None else mitigating)
        self.context = list(ruleset.context_features if context is None else context)
        self._ctx_index = {c: i for i, c in enumerate(self.context)}
        self.pairs = list(combinations(self.risk, 2))
        self._risk_index = {c: i for i, c in enumerate(self.risk)}
        self._mit_index = {c: i for i, c in enumerate(self.mitigating)}
        # Column indices of each pair's two categories, so the pair features are one product.
        self._pair_a = np.array([self._risk_index[a] for a, _ in self.pairs], dtype=np.intp)
        self._pair_b = np.array([self._risk_index[b] for _, b in self.pairs], dtype=np.intp)

    @property
    def names(self) -> list[str]:
        names = []
        for c in self.risk:
            names += [f"rf:{c}", f"rf:{c}:count", f"rf:{c}:severity"]
        names += [f"rf:{c}" for c in self.mitigating]
        names += [f"rf:{a}&{b}" for a, b in self.pairs]
        names += ["rf:n_risk_categories", "rf:risk_severity_sum", "rf:risk_without_mitigation"]
        names += ["rf:max_risk_severity", "rf:only_weak_risk", "rf:n_mitigating_categories"]
        names += [f"ctx:{c}" for c in self.context]
        return names

    @classmethod
    def from_names(cls, ruleset: RuleSet, names: Sequence[str]) -> RedFlagFeatures:
        """The layout whose `names` are these (a trained model's columns)."""
        names = list(names)
        risk = [n[3:-6] for n in names if n.startswith("rf:") and n.endswith(":count")]
        summary = {"n_risk_categories", "risk_severity_sum", "risk_without_mitigation", "max_risk_severity", "only_weak_risk", "n_mitigating_categories"}
        mitigating = [
            n[3:] for n in names if n.startswith("rf:") and ":" not in n[3:] and "&" not in n and n[3:] not in risk and n[3:] not in summary
        ]
        context = [n[4:] for n in names if n.startswith("ctx:")]
        layout = cls(ruleset, risk, mitigating, context)
        if layout.names != names:
            raise ValueError("the model's red-flag columns do not follow the red-flag feature layout; retrain the model")
        return layout

    def vector(self, matches: Iterable[RedFlagMatch]) -> np.ndarray:
        n_risk = len(self.risk)
        present = np.zeros(n_risk)
        count = np.zeros(n_risk)
        severity = np.zeros(n_risk)
        mitigating = np.zeros(len(self.mitigating))
        context = np.zeros(len(self.context))
        seen: set[tuple[str, str]] = set()
        for m in matches:
            # A phrase repeated in title and body counts once.
            key = (m.rule_id, m.text.casefold())
            if key in seen:
                continue
            seen.add(key)
            if m.kind == "risk" and m.category in self._risk_index:
                i = self._risk_index[m.category]
                present[i] = 1.0
                count[i] += 1
                severity[i] = max(severity[i], SEVERITY_LEVELS[m.severity] / 3.0)
            elif m.category in self._mit_index:
                mitigating[self._mit_index[m.category]] = 1.0
            elif m.category in self._ctx_index:
                context[self._ctx_index[m.category]] = 1.0
        per_category = np.stack([present, np.log1p(count), severity], axis=1).ravel()
        pair_values = present[self._pair_a] * present[self._pair_b]
        n_present = present.sum()
        max_severity = float(severity.max()) if n_risk else 0.0
        summary = np.array(
            [
                n_present / n_risk,
                float(severity.sum()) / n_risk,
                float(n_present >= 2 and mitigating.sum() == 0),
                max_severity,
                # Only low-severity lures ("accommodation provided", "WhatsApp us"):
                # weak evidence on their own, whatever their number.
                float(n_present > 0 and max_severity <= SEVERITY_LEVELS["low"] / 3.0),
                float(mitigating.sum()) / max(len(self.mitigating), 1),
            ]
        )
        return np.concatenate([per_category, mitigating, pair_values, summary, context])

    def matrix(self, matches_per_listing: Sequence[Iterable[RedFlagMatch]]) -> np.ndarray:
        if not matches_per_listing:
            return np.zeros((0, len(self.names)))
        return np.vstack([self.vector(m) for m in matches_per_listing])
