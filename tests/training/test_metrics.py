"""Bootstrap intervals, `few` marks and the real/written separation in training.metrics."""

from __future__ import annotations

import numpy as np
import pytest

from lurescan.training.metrics import FEW_ADS, binary_metrics, bootstrap_interval, format_table, origin_metrics


def test_bootstrap_interval_brackets_the_rate_and_narrows_with_n():
    small = bootstrap_interval(np.r_[np.ones(10), np.zeros(40)], seed=1)
    large = bootstrap_interval(np.r_[np.ones(200), np.zeros(800)], seed=1)
    assert small[0] < 0.2 < small[1] and large[0] < 0.2 < large[1]
    assert large[1] - large[0] < small[1] - small[0]
    assert bootstrap_interval(np.r_[np.ones(10), np.zeros(40)], seed=1) == small  # seeded


def test_bootstrap_interval_without_events_is_not_zero_width():
    lo, hi = bootstrap_interval(np.zeros(100))
    assert lo == 0.0 and 0.03 < hi < 0.04  # exact bound 1 - 0.025 ** (1/100)
    lo, hi = bootstrap_interval(np.ones(20))
    assert hi == 1.0 and lo < 0.9
    assert bootstrap_interval([]) is None
    with pytest.raises(ValueError, match="0/1"):
        bootstrap_interval([0.5, 1.0])


def test_binary_metrics_carry_ci95_for_every_rate_and_a_few_mark():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(40), np.zeros(160)].astype(int)
    p = np.clip(y * 0.6 + rng.random(200) * 0.5, 0, 1)
    m = binary_metrics(y, p, 0.5)
    for rate in ("precision", "recall", "false_positive_rate"):
        lo, hi = m["ci95"][rate]
        assert lo <= m[rate] <= hi
    assert m["few"] is False
    small = binary_metrics(y[: FEW_ADS - 1], p[: FEW_ADS - 1], 0.5)
    assert small["few"] is True
    assert small["ci95"]["false_positive_rate"] is None  # no legitimate ads in that slice
    assert "(few)" in format_table({"tiny": small}) and "[" in format_table({"all": m})


def test_origin_metrics_never_pool_real_and_written():
    y = np.array([1, 0, 0, 1, 1, 0, 0, 0])
    p = np.array([0.9, 0.1, 0.2, 0.8, 0.3, 0.6, 0.1, 0.2])
    origins = ["real", "real", "real", "written", "written", "written", "written", "written"]
    out = origin_metrics(y, p, 0.5, origins, {"board": ["emscad", "topcv", "topcv", "written", "written", "written", "written", "written"]})
    assert set(out) == {"real", "written"}
    assert out["real"]["overall"]["n"] == 3 and out["written"]["overall"]["n"] == 5
    assert set(out["real"]["by_board"]) == {"emscad", "topcv"}
    assert out["written"]["overall"]["recall"] == 0.5
    assert "real" not in origin_metrics(y[3:], p[3:], 0.5, origins[3:], {})


def test_rates_follow_the_api_decision_with_decisive_rules():
    """An ad a decisive rule flags counts as flagged whatever its score; ranking still reads the score."""
    y = np.array([1, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.2, 0.1, 0.3, 0.1, 0.1])
    by_rule = np.array([False, True, False, True, False, False])
    plain = binary_metrics(y, p, 0.5)
    decided = binary_metrics(y, p, 0.5, by_rule=by_rule)
    assert plain["recall"] == 0.5 and decided["recall"] == 1.0
    assert plain["false_positive_rate"] == 0.0 and decided["false_positive_rate"] == 0.25
    assert decided["flagged_by_rule"] == {"scams": 1, "legitimate": 1}
    assert decided["pr_auc"] == plain["pr_auc"] and decided["brier"] == plain["brier"]
    out = origin_metrics(y, p, 0.5, ["written"] * 6, {"kind": ["a", "b", "a", "b", "a", "a"]}, by_rule=by_rule)
    assert out["written"]["by_kind"]["b"]["recall"] == 1.0 and out["written"]["by_kind"]["b"]["false_positive_rate"] == 1.0
    assert out["written"]["by_kind"]["a"]["flagged_by_rule"] == {"scams": 0, "legitimate": 0}
