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
    def __init__(self, ruleset: RuleSet) -> None:
        self.risk = ruleset.risk_categories
        self.mitigating = ruleset.mitigating_categories
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
        return names

    def vector(self, matches: Iterable[RedFlagMatch]) -> np.ndarray:
        n_risk = len(self.risk)
        present = np.zeros(n_risk)
        count = np.zeros(n_risk)
        severity = np.zeros(n_risk)
        mitigating = np.zeros(len(self.mitigating))
        seen: set[tuple[str, str]] = set()
        for m in matches:
            # A phrase repeated in title and body counts once.
            key = (m.rule_id, m.text.casefold())
            if key in seen:
                continue
            seen.add(key)
            if m.kind == "risk":
                i = self._risk_index[m.category]
                present[i] = 1.0
                count[i] += 1
                severity[i] = max(severity[i], SEVERITY_LEVELS[m.severity] / 3.0)
            elif m.category in self._mit_index:
                mitigating[self._mit_index[m.category]] = 1.0
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
        return np.concatenate([per_category, mitigating, pair_values, summary])

    def matrix(self, matches_per_listing: Sequence[Iterable[RedFlagMatch]]) -> np.ndarray:
        if not matches_per_listing:
            return np.zeros((0, len(self.names)))
        return np.vstack([self.vector(m) for m in matches_per_listing])
