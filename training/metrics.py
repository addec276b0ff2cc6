"""Honest metrics for a scam classifier, pooled and per slice.

PR-AUC (average precision) and recall at 1% false-positive rate say how well
scores rank; precision/recall/F1 at the stored threshold say what a board
gets from the decision; Brier score and expected calibration error say
whether a "0.8" means 80%. Slices (language, source) report what they can:
a slice with only legitimate ads has a false-positive rate, not a PR-AUC.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, confusion_matrix, roc_auc_score, roc_curve


def expected_calibration_error(y_true, prob, n_bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width probability bins, weighted by bin size."""
    y_true = np.asarray(y_true, dtype=float)
    prob = np.asarray(prob, dtype=float)
    bins = np.minimum((prob * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(y_true[mask].mean() - prob[mask].mean())
    return float(ece)


def recall_at_fpr(y_true, prob, max_fpr: float = 0.01) -> Optional[float]:
    y_true = np.asarray(y_true)
    if y_true.min() == y_true.max():
        return None
    fpr, tpr, _ = roc_curve(y_true, prob)
    ok = fpr <= max_fpr
    return float(tpr[ok].max()) if ok.any() else 0.0


def _r(x: Optional[float]) -> Optional[float]:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def binary_metrics(y_true, prob, threshold: float) -> dict:
    y_true = np.asarray(y_true).astype(int)
    prob = np.asarray(prob, dtype=float)
    pred = (prob >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y_true, pred, labels=[0, 1]).ravel()
    both = y_true.min() != y_true.max()
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else (0.0 if tp + fn and tp + fp else None)
    return {
        "n": int(len(y_true)),
        "scams": int(y_true.sum()),
        "legitimate": int(len(y_true) - y_true.sum()),
        "pr_auc": _r(average_precision_score(y_true, prob)) if both else None,
        "roc_auc": _r(roc_auc_score(y_true, prob)) if both else None,
        "recall_at_1pct_fpr": _r(recall_at_fpr(y_true, prob, 0.01)),
        "threshold": round(float(threshold), 6),
        "precision": _r(precision),
        "recall": _r(recall),
        "f1": _r(f1),
        "false_positive_rate": _r(fp / (fp + tn)) if fp + tn else None,
        "brier": _r(brier_score_loss(y_true, prob, pos_label=1)) if len(y_true) else None,
        "ece": _r(expected_calibration_error(y_true, prob)) if len(y_true) else None,
        "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
    }


def sliced_metrics(y_true, prob, threshold: float, slices: dict[str, Sequence]) -> dict:
    """Pooled metrics plus the same per value of each slice column (language, source)."""
    y_true = np.asarray(y_true).astype(int)
    prob = np.asarray(prob, dtype=float)
    out = {"overall": binary_metrics(y_true, prob, threshold)}
    for name, values in slices.items():
        values = np.asarray([str(v) for v in values])
        out[f"by_{name}"] = {
            v: binary_metrics(y_true[values == v], prob[values == v], threshold) for v in sorted(set(values.tolist()))
        }
    return out


def format_table(rows: dict[str, dict], columns=("n", "scams", "pr_auc", "recall_at_1pct_fpr", "precision", "recall", "f1", "false_positive_rate", "brier", "ece")) -> str:
    """A plain-text table of metric rows (for the terminal and the model card)."""
    header = ["slice", *columns]
    lines = [header]
    for name, m in rows.items():
        lines.append([name, *("-" if m.get(c) is None else str(m.get(c)) for c in columns)])
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    text = []
    for k, r in enumerate(lines):
        text.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)))
        if k == 0:
            text.append("  ".join("-" * w for w in widths))
    return "\n".join(text)
