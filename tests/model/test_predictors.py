"""model/predictors.py: each bundle kind's loader and the one error for a kind that cannot score."""

from __future__ import annotations

import numpy as np
import pytest

from lurescan.model.bundle import BundleError, load_estimator, read_bundle
from lurescan.model.features import prepare
from lurescan.model.listing import MAX_CHARS
from lurescan.model.predictors import LOADERS, Predictor, load_predictor


def test_every_known_kind_has_a_loader():
    from lurescan.model.bundle import KNOWN_KINDS

    assert set(LOADERS) == set(KNOWN_KINDS)


def test_baseline_predictor_is_the_classifiers_scam_column():
    bundle = read_bundle()
    predictor = load_predictor(bundle)
    assert isinstance(predictor, Predictor) and predictor.max_chars == MAX_CHARS
    prepared = [prepare({"text": "Free flights, contact Telegram @hr_kh"}), prepare({"text": "Accountant, Jakarta office"})]
    p = predictor.scam_probability(prepared)
    assert p.shape == (2,)
    assert np.array_equal(p, load_estimator(bundle, "model").predict_proba(prepared)[:, 1])


def test_a_kind_without_a_loader_is_refused_in_one_line():
    bundle = read_bundle()
    other = type(bundle)(path=bundle.path, manifest={**bundle.manifest, "kind": "mystery"})
    with pytest.raises(BundleError, match="cannot score 'mystery' bundles"):
        load_predictor(other)


def test_an_ensemble_without_members_is_refused(tmp_path):
    from lurescan.model.bundle import write_bundle

    manifest = {"kind": "ensemble", "model_version": "x", "threshold": {"threshold": 0.5, "medium_risk_threshold": 0.3}}
    bundle = read_bundle(write_bundle(tmp_path / "e", manifest, {"stacker.json": b"{}"}, "card"))
    with pytest.raises(BundleError, match="no 'transformer' member"):
        load_predictor(bundle)
