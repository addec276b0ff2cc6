"""The baseline estimator follows scikit-learn's API; the threshold rule holds."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from lurescan.model.baseline import BaselineClassifier
from lurescan.model.features import ListingVectorizer, mask_contacts, prepare
from lurescan.model.ngrams import CharNgramHasher
from lurescan.model.threshold import risk_level
from lurescan.training.threshold import choose_threshold


@pytest.fixture(scope="module")
def fitted(corpus_rows):
    rows = corpus_rows[::2]
    X = [{"title": r["title"], "text": r["text"]} for r in rows]
    y = np.array([r["label"] for r in rows])
    clf = BaselineClassifier(vectorizer=ListingVectorizer(n_char_features=2**15, n_word_features=2**14), calibration_folds=3)
    return clf.fit(X, y), corpus_rows[1::2]


def test_estimator_api(fitted):
    clf, held = fitted
    assert clf.get_params()["C"] == 4.0
    assert not hasattr(clone(clf), "calibrated_"), "clone must drop learned attributes"
    X = [{"title": r["title"], "text": r["text"]} for r in held]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert set(clf.predict(X)) <= {0, 1}
    assert clf.decision_function(X).shape == (len(X),)
    y = np.array([r["label"] for r in held])
    # Held-out ads of the project's corpus: far better than chance.
    from sklearn.metrics import average_precision_score

    assert average_precision_score(y, proba[:, 1]) > 0.8


def test_direct_scoring_equals_scikit_learn(fitted):
    """The fast paths (no per-call validation, no stacked matrix) give scikit-learn's numbers,
    for one listing and for many (up to floating-point summation order)."""
    from scipy import sparse as sp
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    from lurescan.model.features import sublinear_tfidf_l2

    clf, held = fitted
    X = [{"title": r["title"], "text": r["text"]} for r in held]
    for batch in (X[:1], X):
        Z = clf.transform_features(batch)
        assert np.allclose(clf.predict_proba(batch), clf.calibrated_.predict_proba(Z), rtol=0, atol=1e-12)
        weights = np.random.default_rng(0).normal(size=(Z.shape[1], 2))
        assert np.allclose(clf.vectorizer_.transform_dot(batch, weights), Z @ weights, rtol=0, atol=1e-12)
    assert clf.predict_proba([]).shape == (0, 2)
    counts = sp.csr_matrix(np.array([[0, 2, 1, 0], [0, 0, 0, 0], [5, 0, 0, 1]], dtype=float))  # an empty row too
    tfidf = TfidfTransformer(sublinear_tf=True, norm=None).fit(counts)
    assert np.allclose(sublinear_tfidf_l2(counts, tfidf.idf_).toarray(), normalize(tfidf.transform(counts)).toarray(), rtol=0, atol=1e-15)


def test_fit_rejects_one_class():
    with pytest.raises(ValueError, match="both classes"):
        BaselineClassifier().fit([{"text": "a"}, {"text": "b"}], [0, 0])


def test_char_hasher_is_deterministic_and_batch_independent():
    docs = ["캄보디아 고수익", "งานออนไลน์ รายได้ดี", "", "a", "free flights and housing"]
    hasher = CharNgramHasher(n_features=2**12, chunk_size=2)
    together = hasher.transform(docs).toarray()
    alone = np.vstack([hasher.transform([d]).toarray() for d in docs])
    assert np.array_equal(together, alone)
    assert together[2].sum() == 0 and together[3].sum() == 0  # too short for a 2-gram
    # "캄보디아 고수익" has 8 characters: 7 bigrams + 6 trigrams + 5 four-grams + 4 five-grams.
    assert together[0].sum() == 7 + 6 + 5 + 4
    rows, cols, counts = hasher.hash_counts(docs)
    assert np.array_equal(together[rows, cols], counts) and counts.sum() == together.sum()


def test_contacts_are_masked_alike():
    text = "Apply: https://t.me/hr_job, hr@example.com or +855 12 345 678"
    assert mask_contacts(text).split() == ["Apply:", "[URL]", "[EMAIL]", "or", "[PHONE]"]


def test_prepare_truncates_head_and_tail():
    p = prepare({"text": "start " + "x" * 9000 + " end-contact"}, max_chars=1000)
    assert p.truncated and len(p.model_text) <= 1001
    assert p.model_text.startswith("start") and p.model_text.endswith("end-contact")


def test_threshold_reaches_target_precision():
    y = np.array([0] * 50 + [1] * 50)
    scores = np.r_[np.linspace(0, 0.6, 50), np.linspace(0.4, 1.0, 50)]
    choice = choose_threshold(y, scores, target_precision=0.9)
    flagged = scores >= choice.threshold
    assert choice.rule == "target_precision"
    assert y[flagged].mean() >= 0.9
    # Lowest such threshold: one step lower breaks the target or changes nothing.
    assert choice.medium_risk_threshold <= choice.threshold
    assert risk_level(choice.threshold, choice.threshold, choice.medium_risk_threshold) == "high"
    assert risk_level(0.0, choice.threshold, choice.medium_risk_threshold) == "low"


def test_threshold_falls_back_to_best_f1_when_target_unreachable():
    y = np.array([0, 1, 0, 1])
    scores = np.array([0.9, 0.8, 0.7, 0.1])
    assert choose_threshold(y, scores, target_precision=0.99).rule == "best_f1_fallback"
    with pytest.raises(ValueError, match="both scams and legitimate"):
        choose_threshold([1, 1], [0.2, 0.3])
