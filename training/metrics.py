"""Honest metrics for a scam classifier, pooled and per slice.

PR-AUC (average precision) and recall at 1% false-positive rate say how well
scores rank; precision/recall/F1 at the stored threshold say what a board
gets from the decision; Brier score and expected calibration error say
whether a "0.8" means 80%. The rates are those of the decision the API
makes: over the threshold, or flagged by a decisive trafficking rule
(`by_rule`; `flagged_by_rule` counts the ads only a rule flagged). Slices (language, source) report what they can:
a slice with only legitimate ads has a false-positive rate, not a PR-AUC.

Every rate (precision, recall, false-positive rate) comes with a bootstrap 95%
interval under `ci95`, and a slice of fewer than `FEW_ADS` ads says `few:
true`: "0 false positives" on 12 ads is not the same claim as on 3,000.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, confusion_matrix, roc_auc_score, roc_curve

FEW_ADS = 30  # slices smaller than this are marked `few: true`
N_BOOT = 1000


def bootstrap_interval(values, n_boot: int = N_BOOT, seed: int = 0, level: float = 0.95) -> list | None:
    """Percentile bootstrap interval of the mean of 0/1 `values` (a rate over its denominator).

    Resampling n rows with replacement from k successes draws Binomial(n, k/n)
    successes, so the bootstrap is drawn exactly that way (no n_boot x n index
    matrix). When every value is the same (0 false positives, or all scams
    caught) the bootstrap has zero width, which overstates certainty; there the
    exact Clopper-Pearson bound is given instead ([0, 1-(alpha/2)^(1/n)] for
    no successes). None for an empty denominator.
    """
    values = np.asarray(values, dtype=float).ravel()
    n = len(values)
    if n == 0:
        return None
    if not np.isin(values, (0.0, 1.0)).all():
        raise ValueError("bootstrap_interval takes 0/1 values (one per row of the rate's denominator)")
    k = int(values.sum())
    alpha = 1.0 - level
    if k == 0:
        return [0.0, round(1.0 - (alpha / 2) ** (1.0 / n), 4)]
    if k == n:
        return [round((alpha / 2) ** (1.0 / n), 4), 1.0]
    rng = np.random.default_rng(seed)
    rates = rng.binomial(n, k / n, size=n_boot) / n
    lo, hi = np.quantile(rates, [alpha / 2, 1 - alpha / 2])
    return [round(float(lo), 4), round(float(hi), 4)]


def rate_intervals(y_true, pred, n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """ci95 of precision (over flagged ads), recall (over scams) and FPR (over legitimate ads)."""
    y_true = np.asarray(y_true).astype(int)
    pred = np.asarray(pred).astype(int)
    return {
        "precision": bootstrap_interval(y_true[pred == 1], n_boot, seed),
        "recall": bootstrap_interval(pred[y_true == 1], n_boot, seed),
        "false_positive_rate": bootstrap_interval(pred[y_true == 0], n_boot, seed),
    }


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


def recall_at_fpr(y_true, prob, max_fpr: float = 0.01) -> float | None:
    y_true = np.asarray(y_true)
    if y_true.min() == y_true.max():
        return None
    fpr, tpr, _ = roc_curve(y_true, prob)
    ok = fpr <= max_fpr
    return float(tpr[ok].max()) if ok.any() else 0.0


def _r(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def _rule_flags(by_rule, n: int) -> np.ndarray:
    """`by_rule` as n bools (None: no ad was flagged by a rule)."""
    return np.zeros(n, dtype=bool) if by_rule is None else np.asarray(by_rule, dtype=bool)


def binary_metrics(y_true, prob, threshold: float, n_boot: int = N_BOOT, seed: int = 0, by_rule=None) -> dict:
    """Ranking and calibration read `prob`; the rates read the decision a board gets:
    `prob >= threshold`, or a decisive trafficking rule (`by_rule`, one bool per ad)."""
    y_true = np.asarray(y_true).astype(int)
    prob = np.asarray(prob, dtype=float)
    by_rule = _rule_flags(by_rule, len(y_true))
    pred = ((prob >= threshold) | by_rule).astype(int)
    tn, fp, fn, tp = confusion_matrix(y_true, pred, labels=[0, 1]).ravel()
    both = y_true.min() != y_true.max()
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else (0.0 if tp + fn and tp + fp else None)
    return {
        "n": len(y_true),
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
        # Ads flagged only by a decisive rule (below the threshold): scams and legitimate ones.
        "flagged_by_rule": {"scams": int((by_rule & (prob < threshold) & (y_true == 1)).sum()), "legitimate": int((by_rule & (prob < threshold) & (y_true == 0)).sum())},
        "ci95": rate_intervals(y_true, pred, n_boot, seed),
        "few": bool(len(y_true) < FEW_ADS),
    }


def sliced_metrics(y_true, prob, threshold: float, slices: dict[str, Sequence], n_boot: int = N_BOOT, seed: int = 0, by_rule=None) -> dict:
    """Metrics over all rows given plus the same per value of each slice column (language, board)."""
    y_true = np.asarray(y_true).astype(int)
    prob = np.asarray(prob, dtype=float)
    by_rule = _rule_flags(by_rule, len(y_true))
    out = {"overall": binary_metrics(y_true, prob, threshold, n_boot, seed, by_rule)}
    for name, values in slices.items():
        values = np.asarray([str(v) for v in values])
        out[f"by_{name}"] = {
            v: binary_metrics(y_true[values == v], prob[values == v], threshold, n_boot, seed, by_rule[values == v])
            for v in sorted(set(values.tolist()))
        }
    return out


def origin_metrics(
    y_true, prob, threshold: float, origins: Sequence, slices: dict[str, Sequence], n_boot: int = N_BOOT, seed: int = 0, by_rule=None
) -> dict:
    """`sliced_metrics` separately per origin ('real', 'written'), never pooled.

    Written ads are the project's own; a headline that pools them with real
    ads reports how well the model knows the project's writing. An origin
    with no rows is left out.
    """
    y_true = np.asarray(y_true).astype(int)
    prob = np.asarray(prob, dtype=float)
    origins = np.asarray([str(o) for o in origins])
    by_rule = _rule_flags(by_rule, len(y_true))
    out = {}
    for origin in ("real", "written", *sorted(set(origins.tolist()) - {"real", "written"})):
        mask = origins == origin
        if mask.any():
            out[origin] = sliced_metrics(
                y_true[mask],
                prob[mask],
                threshold,
                {k: np.asarray(list(v), dtype=object)[mask] for k, v in slices.items()},
                n_boot,
                seed,
                by_rule[mask],
            )
    return out


def _cell(m: dict, column: str) -> str:
    value = m.get(column)
    if value is None:
        return "-"
    ci = (m.get("ci95") or {}).get(column)
    return f"{value} [{ci[0]}, {ci[1]}]" if ci else str(value)


def format_table(rows: dict[str, dict], columns=("n", "scams", "pr_auc", "recall_at_1pct_fpr", "precision", "recall", "f1", "false_positive_rate", "brier", "ece")) -> str:
    """A plain-text table of metric rows (for the terminal and the model card)."""
    header = ["slice", *columns]
    lines = [header]
    for name, m in rows.items():
        lines.append([name + (" (few)" if m.get("few") else ""), *(_cell(m, c) for c in columns)])
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    text = []
    for k, r in enumerate(lines):
        text.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)))
        if k == 0:
            text.append("  ".join("-" * w for w in widths))
    return "\n".join(text)
