"""The baseline classifier: listing features, a class-weighted linear model,
and sigmoid calibration, behind scikit-learn's estimator API.

Because it is a plain estimator (`fit`, `predict_proba`, parameters in
`__init__`, learned attributes ending in `_`), scikit-learn's own tools wrap
it: `FixedThresholdClassifier` stores the decision threshold chosen on
validation data, and cross-validation utilities work unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from .features import ListingLike, ListingVectorizer, PreparedListing, prepare_many


class BaselineClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF n-grams + red flags + metadata -> calibrated logistic regression.

    Parameters
    ----------
    vectorizer : ListingVectorizer or None (default settings).
    C : inverse regularisation strength of the logistic regression.
    class_weight : "balanced" by default, since scams are the minority.
    calibration : "sigmoid" (Platt) or "isotonic".
    calibration_folds : folds for cross-fitted calibration; grouped by the
        `groups` given to `fit`, so reposts do not calibrate themselves.
    random_state : seed for the fold assignment.
    """

    def __init__(
        self,
        vectorizer: ListingVectorizer | None = None,
        C: float = 4.0,
        class_weight: str | None = "balanced",
        calibration: str = "sigmoid",
        calibration_folds: int = 5,
        max_iter: int = 2000,
        random_state: int = 0,
    ):
        self.vectorizer = vectorizer
        self.C = C
        self.class_weight = class_weight
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.max_iter = max_iter
        self.random_state = random_state

    def _linear(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, solver="liblinear", random_state=self.random_state
        )

    def fit(self, X: Sequence[ListingLike], y, groups=None, sample_weight=None, sources=None):
        """`groups` keep reposts in one calibration fold; `sample_weight` e.g. balances sources;
        `sources` (board per listing) lets the vectorizer drop n-grams only one board uses."""
        y = np.asarray(y).astype(int)
        if set(np.unique(y)) != {0, 1}:
            raise ValueError(f"training labels must contain both classes 0 and 1, got {sorted(set(np.unique(y)))}")
        prepared = prepare_many(X, max_chars=(self.vectorizer or ListingVectorizer()).max_chars)
        vectorizer = ListingVectorizer() if self.vectorizer is None else self.vectorizer
        self.vectorizer_ = clone(vectorizer).fit(prepared, sources=sources)
        Z = self.vectorizer_.transform(prepared)
        n_folds = max(2, min(self.calibration_folds, int(np.bincount(y).min())))
        if groups is not None and len(set(groups)) >= n_folds:
            splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=self.random_state)
            folds = list(splitter.split(Z, y, groups))
        else:
            folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=self.random_state).split(Z, y))
        self.calibrated_ = CalibratedClassifierCV(self._linear(), method=self.calibration, cv=folds, ensemble=False)
        self.calibrated_.fit(Z, y, sample_weight=sample_weight)
        # The fold index arrays were only needed for fitting; keep their count.
        self.calibrated_.cv = len(folds)
        self.classes_ = self.calibrated_.classes_
        return self

    def transform_features(self, X: Sequence[ListingLike | PreparedListing]):
        check_is_fitted(self, "calibrated_")
        return self.vectorizer_.transform(prepare_many(X, max_chars=self.vectorizer_.max_chars))

    def predict_proba(self, X: Sequence[ListingLike | PreparedListing]) -> np.ndarray:
        check_is_fitted(self, "calibrated_")
        members = sigmoid_linear_members(self.calibrated_)
        if members is None:
            return self.calibrated_.predict_proba(self.transform_features(X))
        weights = np.column_stack([m.estimator.coef_.ravel() for m in members]) if len(members) > 1 else members[0].estimator.coef_.T
        prepared = prepare_many(X, max_chars=self.vectorizer_.max_chars)
        return _sigmoid_average(members, self.vectorizer_.transform_dot(prepared, weights))

    def decision_function(self, X: Sequence[ListingLike | PreparedListing]) -> np.ndarray:
        """The uncalibrated linear margin (what n-gram explanations decompose)."""
        return self.linear_model.decision_function(self.transform_features(X))

    def predict(self, X) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    @property
    def linear_model(self) -> LogisticRegression:
        """The logistic regression fitted on all training data."""
        check_is_fitted(self, "calibrated_")
        return self.calibrated_.calibrated_classifiers_[0].estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


def sigmoid_linear_members(calibrated: CalibratedClassifierCV) -> list | None:
    """The calibrated members of a binary, sigmoid-calibrated linear model, or None for anything else."""
    members = calibrated.calibrated_classifiers_
    direct = len(calibrated.classes_) == 2 and all(
        len(m.calibrators) == 1
        and type(m.calibrators[0]) is _SigmoidCalibration
        and hasattr(m.estimator, "coef_")
        and list(m.estimator.classes_) == list(calibrated.classes_)
        for m in members
    )
    return members if direct else None


def _sigmoid_average(members: list, products: np.ndarray) -> np.ndarray:
    """[P(0), P(1)] from each member's `features @ coef` (one column per member), as scikit-learn computes them."""
    positive = np.mean(
        [
            expit(-(m.calibrators[0].a_ * (products[:, j] + m.estimator.intercept_[0]) + m.calibrators[0].b_))
            for j, m in enumerate(members)
        ],
        axis=0,
    )
    return np.column_stack([1.0 - positive, positive])
