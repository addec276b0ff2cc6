"""The predictor table: how each bundle kind turns prepared listings into P(scam).

A `Predictor` is what `Scorer` calls: a function from prepared listings to
one probability per listing, and the classifier window it reads. Each kind
has one loader here; a kind whose runtime is optional (onnxruntime for
transformers) is imported only when such a bundle is loaded. The ensemble's
loader builds its members' predictors here and hands them to the stacker,
so the stacker never looks up this table.

To add a bundle kind: add it to `bundle.KNOWN_KINDS` and a loader to `LOADERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .bundle import Bundle, BundleError, load_estimator, read_bundle
from .features import PreparedListing
from .listing import MAX_CHARS

# Scores are kept inside (0, 1) at the six decimals the API shows: a calibrated model never
# claims certainty, and a threshold of 1.0 must be able to flag nothing.
PROBABILITY_FLOOR = 1e-6


class Predictor(NamedTuple):
    """P(scam) for prepared listings (shape (n,)), and the characters of text the model reads."""

    scam_probability: Callable[[Sequence[PreparedListing]], np.ndarray]
    max_chars: int


def baseline_predictor(bundle: Bundle) -> Predictor:
    model = load_estimator(bundle, "model")
    # The bundle stores FixedThresholdClassifier(FrozenEstimator(classifier)); the wrappers pass
    # probabilities through unchanged (the threshold is in the manifest) and cost a deep copy
    # of their tags on every call, so scoring asks the classifier itself.
    inner = getattr(getattr(model, "estimator", None), "estimator", model)
    max_chars = inner.vectorizer_.max_chars if hasattr(inner, "vectorizer_") else MAX_CHARS
    return Predictor(lambda prepared: inner.predict_proba(prepared)[:, 1], max_chars)


def transformer_predictor(bundle: Bundle) -> Predictor:
    from .transformer_scorer import classifier_from_bundle  # onnxruntime: only for such bundles

    classifier = classifier_from_bundle(bundle)
    return Predictor(classifier.scam_probability, int((bundle.manifest.get("input") or {}).get("max_chars", MAX_CHARS)))


def ensemble_predictor(bundle: Bundle) -> Predictor:
    from .stacker import stacked_predictor

    transformer, baseline = _member(bundle, "transformer"), _member(bundle, "baseline")
    transformer_p, baseline_p = load_predictor(transformer), load_predictor(baseline)
    predict = stacked_predictor(bundle, transformer_p.scam_probability, baseline_p.scam_probability, load_estimator(baseline, "model"))
    return Predictor(predict, baseline_p.max_chars)


def _member(bundle: Bundle, name: str) -> Bundle:
    info = (bundle.manifest.get("members") or {}).get(name)
    if not info:
        raise BundleError(f"{bundle.path}: ensemble manifest lists no '{name}' member")
    member = read_bundle(bundle.path / info["path"])
    if member.kind != info["kind"]:
        raise BundleError(f"{member.path}: member is a '{member.kind}' bundle, the ensemble expects '{info['kind']}'")
    return member


LOADERS: dict[str, Callable[[Bundle], Predictor]] = {
    "baseline": baseline_predictor,
    "transformer": transformer_predictor,
    "ensemble": ensemble_predictor,
}


def load_predictor(bundle: Bundle) -> Predictor:
    """The predictor for a verified bundle, or BundleError for a kind this installation cannot score."""
    loader = LOADERS.get(bundle.kind)
    if loader is None:
        raise BundleError(f"{bundle.path}: this installation cannot score '{bundle.kind}' bundles")
    return loader(bundle)
