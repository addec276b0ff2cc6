"""The ensemble: a small calibrated logistic regression over the members' scores and the red flags.

Inputs per listing (`stack_features`): the logit of the transformer's
probability, the logit of the baseline's probability, and a compact view of
the red flags (presence of each risk and mitigating category, how many risk
categories, their summed severity, "two or more risks and no mitigation") —
the pairwise products and counts the baseline uses are left out, since the
stacker is fitted on the validation split only (hundreds of rows).

`StackedClassifier` is a plain scikit-learn estimator on that numeric
matrix: standardise -> L2-regularised logistic regression -> sigmoid
calibration cross-fitted over (grouped) folds. It is saved (model/safe_state.py) in an
"ensemble" bundle that embeds verified copies of both member bundles, so the
ensemble is self-contained; `stacked_predictor` scores a listing by running
both members (their predictors built by model/predictors.py), stacking, and attaching the baseline's strongest n-grams as
readable evidence (`model/explain.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from .bundle import Bundle, BundleError, load_estimator
from .explain import BaselineExplainer, evidence_reasons
from .features import PreparedListing
from .redflags.engine import default_engine
from .redflags.features import RedFlagFeatures

SCORE_COLUMNS = ("transformer_logit", "baseline_logit")


def _logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def redflag_summary_names(ruleset) -> list[str]:
    """The red-flag columns the stacker reads: presence and summaries, no counts or pairs."""
    return [n for n in RedFlagFeatures(ruleset).names if "&" not in n and not n.endswith((":count", ":severity"))]


def stack_features(transformer_p, baseline_p, prepared: Sequence[PreparedListing], ruleset) -> pd.DataFrame:
    """The stacker's input matrix, with named columns (names are checked at prediction)."""
    rf = RedFlagFeatures(ruleset)
    keep = redflag_summary_names(ruleset)
    index = [rf.names.index(n) for n in keep]
    flags = rf.matrix([p.matches for p in prepared])[:, index] if prepared else np.zeros((0, len(keep)))
    frame = pd.DataFrame(flags, columns=keep)
    frame.insert(0, SCORE_COLUMNS[1], _logit(baseline_p))
    frame.insert(0, SCORE_COLUMNS[0], _logit(transformer_p))
    return frame


class StackedClassifier(ClassifierMixin, BaseEstimator):
    """Calibrated logistic regression over stacked member scores and red-flag features.

    Parameters
    ----------
    C : inverse L2 strength of the logistic regression (features are standardised).
    calibration : "sigmoid" (Platt) or "isotonic", cross-fitted over `cv` folds.
    cv : number of folds; grouped by the `groups` given to `fit` when there are enough groups.
    random_state : seed of the fold assignment.
    """

    def __init__(self, C: float = 1.0, calibration: str = "sigmoid", cv: int = 5, random_state: int = 0):
        self.C = C
        self.calibration = calibration
        self.cv = cv
        self.random_state = random_state

    def folds(self, X, y, groups=None) -> list:
        y = np.asarray(y).astype(int)
        n = max(2, min(self.cv, int(np.bincount(y, minlength=2).min())))
        if groups is not None and len(set(groups)) >= n:
            return list(
                StratifiedGroupKFold(n_splits=n, shuffle=True, random_state=self.random_state).split(X, y, groups)
            )
        return list(StratifiedKFold(n_splits=n, shuffle=True, random_state=self.random_state).split(X, y))

    def fit(self, X, y, groups=None):
        X, y = validate_data(self, X, y)
        y = np.asarray(y).astype(int)
        if set(np.unique(y)) != {0, 1}:
            raise ValueError(f"stacker labels must contain both classes 0 and 1, got {sorted(set(np.unique(y)))}")
        linear = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=1000))
        self.calibrated_ = CalibratedClassifierCV(
            linear, method=self.calibration, cv=self.folds(X, y, groups), ensemble=False
        )
        self.calibrated_.fit(X, y)
        self.calibrated_.cv = len(self.calibrated_.cv)  # fold indices were only needed to fit
        self.classes_ = self.calibrated_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "calibrated_")
        if isinstance(X, pd.DataFrame) and hasattr(self, "feature_names_in_"):
            # The common case (one listing at a time in the API): a name check
            # and a plain array, a quarter of `validate_data`'s cost.
            if list(X.columns) != list(self.feature_names_in_):
                raise ValueError(
                    f"stacker features {list(X.columns)} differ from those it was fitted with {list(self.feature_names_in_)}"
                )
            X = X.to_numpy(dtype=np.float64)
        else:
            X = validate_data(self, X, reset=False)
        return self.calibrated_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def coefficients(self) -> dict[str, float]:
        """Standardised coefficients by feature name (log-odds per standard deviation)."""
        check_is_fitted(self, "calibrated_")
        pipeline = self.calibrated_.calibrated_classifiers_[0].estimator
        coef = pipeline[-1].coef_.ravel()
        names = getattr(self, "feature_names_in_", [f"x{i}" for i in range(len(coef))])
        return {str(n): round(float(c), 4) for n, c in zip(names, coef)}


def stacked_predictor(
    bundle: Bundle, transformer_p: Callable, baseline_p: Callable, baseline_model, evidence: int | None = 5
) -> Callable[[Sequence[PreparedListing]], np.ndarray]:
    """P(scam) of an ensemble bundle from its members' P(scam) functions (model/predictors.py loads them)."""
    stacker = load_estimator(bundle, "stacker")
    ruleset = default_engine().ruleset
    if list(getattr(stacker, "feature_names_in_", [])) != list(stack_features([], [], [], ruleset).columns):
        raise BundleError(
            f"{bundle.path}: the installed red-flag categories differ from those the stacker was fitted with; rebuild the ensemble"
        )
    explainer = BaselineExplainer(baseline_model) if evidence else None
    n_evidence = int(evidence or 0)
    medium = bundle.medium_threshold
    weight = stacker.coefficients().get(SCORE_COLUMNS[1])
    note = f"; the n-gram model's score carries weight {weight:+.2f} in the ensemble" if weight is not None else ""

    def predict(prepared: Sequence[PreparedListing]) -> np.ndarray:
        X = stack_features(transformer_p(prepared), baseline_p(prepared), prepared, ruleset)
        probs = stacker.predict_proba(X)[:, 1]
        if explainer is not None:
            for p, prob in zip(prepared, probs):
                if prob >= medium:  # evidence where a moderator will look
                    p.extras["evidence"] = evidence_reasons(p, explainer.top(p, n_evidence), note)
        return probs

    return predict
