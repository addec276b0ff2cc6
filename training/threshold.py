"""Choosing the decision threshold on validation data.

A job board wants to know what "flagged" means: the threshold is the lowest
score at which validation precision reaches a stated target (so recall is as
high as that precision allows). If no threshold reaches the target, the one
with the best F1 is used and the choice says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import precision_recall_curve


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    rule: str  # "target_precision" or "best_f1_fallback"
    target_precision: float
    validation_precision: float
    validation_recall: float
    medium_risk_threshold: float  # lower bound of the "medium" risk band
    weighted: bool = False  # precision/recall measured with sample weights (equal weight per source)

    def as_dict(self) -> dict:
        return asdict(self)


def choose_threshold(
    y_true, scores, target_precision: float = 0.9, medium_recall: float = 0.95, sample_weight=None
) -> ThresholdChoice:
    """`sample_weight` (e.g. equal weight per source) makes a small, hard
    source of legitimate ads count as much as a large, easy one, so the
    threshold is not set by how easy the biggest scrape is."""
    y_true = np.asarray(y_true).astype(int)
    scores = np.asarray(scores, dtype=float)
    if y_true.min() == y_true.max():
        raise ValueError("validation data must contain both scams and legitimate ads to choose a threshold")
    precision, recall, thresholds = precision_recall_curve(y_true, scores, sample_weight=sample_weight)
    # precision/recall have one more entry than thresholds (the final point).
    precision, recall = precision[:-1], recall[:-1]
    ok = np.flatnonzero(precision >= target_precision)
    if len(ok):
        i = int(ok[0])  # lowest threshold reaching the target: highest recall
        rule = "target_precision"
    else:
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
        i = int(np.argmax(f1))
        rule = "best_f1_fallback"
    threshold = float(thresholds[i])
    reach = np.flatnonzero(recall >= medium_recall)
    medium = float(thresholds[reach[-1]]) if len(reach) else float(thresholds[0])
    return ThresholdChoice(
        threshold=threshold,
        rule=rule,
        target_precision=target_precision,
        validation_precision=float(precision[i]),
        validation_recall=float(recall[i]),
        medium_risk_threshold=min(medium, threshold),
        weighted=sample_weight is not None,
    )
