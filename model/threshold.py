"""Risk levels from a score and a bundle's two thresholds (what scoring needs; choosing the
thresholds is training's, in training/threshold.py)."""

from __future__ import annotations


def risk_level(probability: float, threshold: float, medium_threshold: float) -> str:
    """"high" at or above the decision threshold, "medium" in the band below it, else "low"."""
    if probability >= threshold:
        return "high"
    if probability >= medium_threshold:
        return "medium"
    return "low"
