"""model/stacker.py: the ensemble's calibrated logistic regression and its predictor over member scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lurescan.model import safe_state
from lurescan.model.bundle import estimator_files, read_bundle, write_bundle
from lurescan.model.features import prepare
from lurescan.model.redflags.engine import default_engine
from lurescan.model.stacker import (
    SCORE_COLUMNS,
    StackedClassifier,
    redflag_summary_names,
    stack_features,
    stacked_predictor,
)

RULESET = default_engine().ruleset


def _toy(n_legit=80, n_scam=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n_legit), np.ones(n_scam)].astype(int)
    X = pd.DataFrame({"transformer_logit": rng.normal(y * 2.0, 1.0), "baseline_logit": rng.normal(y * 1.5, 1.0), "rf:x": rng.integers(0, 2, len(y))})
    return X, y


def test_estimator_api_shapes_and_saving():
    X, y = _toy()
    model = StackedClassifier(C=1.0, cv=4).fit(X, y, groups=np.arange(len(y)) // 2)
    proba = model.predict_proba(X)
    assert proba.shape == (len(y), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= {0, 1} and list(model.classes_) == [0, 1]
    assert model.coefficients()["transformer_logit"] > 0
    assert list(model.feature_names_in_) == list(X.columns)
    assert model.get_params() == {"C": 1.0, "calibration": "sigmoid", "cv": 4, "random_state": 0}
    restored = safe_state.loads(*safe_state.dumps(model))
    assert np.allclose(restored.predict_proba(X), proba)


def test_refuses_other_columns_and_one_class():
    X, y = _toy()
    model = StackedClassifier(cv=3).fit(X, y)
    with pytest.raises(ValueError, match="differ"):
        model.predict_proba(X.rename(columns={"rf:x": "rf:y"}))
    with pytest.raises(ValueError, match="both classes"):
        StackedClassifier().fit(X, np.zeros(len(y), dtype=int))


def test_folds_are_grouped_when_groups_allow():
    X, y = _toy()
    groups = np.arange(len(y)) // 4
    for train, test in StackedClassifier(cv=4).folds(X, y, groups):
        assert not set(groups[train]) & set(groups[test])
    # Too few groups: stratified folds over rows instead.
    assert len(StackedClassifier(cv=4).folds(X, y, np.zeros(len(y)))) == 4


def test_stack_features_columns_are_scores_then_red_flag_summaries():
    prepared = [prepare({"text": "Free flights, contact Telegram @hr_kh"}), prepare({"text": "Accountant, Jakarta office"})]
    frame = stack_features([0.9, 0.1], [0.8, 0.2], prepared, RULESET)
    assert list(frame.columns) == [*SCORE_COLUMNS, *redflag_summary_names(RULESET)]
    assert frame[SCORE_COLUMNS[0]].iloc[0] > 0 > frame[SCORE_COLUMNS[0]].iloc[1]  # logits
    assert not any("&" in c or c.endswith((":count", ":severity")) for c in frame.columns)
    assert frame.iloc[0, 2:].sum() > frame.iloc[1, 2:].sum()


def test_stacked_predictor_reads_member_scores(tmp_path):
    """The ensemble's P(scam) comes from its members' P(scam) functions and the stacker saved in the bundle."""
    prepared = [prepare({"text": t}) for t in ("Free flights, contact Telegram @hr_kh", "Accountant, Jakarta office")] * 30
    y = np.array([1, 0] * 30)
    member_p = np.where(y == 1, 0.8, 0.2) + np.random.default_rng(1).normal(0, 0.05, len(y))
    X = stack_features(member_p, member_p, prepared, RULESET)
    stacker = StackedClassifier(cv=3).fit(X, y)
    manifest = {"kind": "ensemble", "model_version": "toy", "threshold": {"threshold": 0.5, "medium_risk_threshold": 0.3}}
    bundle = read_bundle(write_bundle(tmp_path / "toy", manifest, estimator_files(stacker, "stacker"), "toy card"))
    predict = stacked_predictor(bundle, lambda p: member_p[: len(p)], lambda p: member_p[: len(p)], baseline_model=None, evidence=None)
    assert np.allclose(predict(prepared), stacker.predict_proba(X)[:, 1])
