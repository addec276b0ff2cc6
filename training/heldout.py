"""Held-out evaluation on what the model never saw, and a threshold chosen there.

A grouped random split of this data scores ads from boards and companies the
model was trained on, so its figures say little about a new board. Here every
legitimate board is left out in turn (train without it, score it: its
false-positive rate); real scams are scored only by models that never saw
their company (grouped folds by company); the written corpus is scored in
folds grouped by `group` (one company or repost cluster per group).

The threshold is then the lowest one at which every left-out legitimate board
stays at or under `max_fpr`. Fold models' probabilities are calibrated on
their own folds and are not comparable with the final model's, so the
threshold is taken on the uncalibrated margin (`decision_function`) and mapped
to the final model's probability scale through its sigmoid calibrator.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

from lurescan.model.baseline import BaselineClassifier, sigmoid_linear_members
from lurescan.model.scoring import decisive_flags

from .boards import add_board_columns, board_balanced_weights
from .dedup import _UnionFind
from .metrics import FEW_ADS, bootstrap_interval
from .split import company_key

log = logging.getLogger(__name__)

LEGIT_BOARD = "legit_board"  # train without the board, score it: FPR
SCAM_COMPANIES = "scam_companies"  # grouped folds by company over a real scam board: recall on unseen companies
WRITTEN_GROUPS = "written_groups"  # grouped folds over the written corpus


@dataclass(frozen=True)
class HeldOutSet:
    """One fit: `train` rows (positions in the frame) fit a fresh model that scores `test`."""

    name: str
    kind: str
    board: str
    train: np.ndarray = field(repr=False)
    test: np.ndarray = field(repr=False)


def company_ids(frame: pd.DataFrame) -> np.ndarray:
    """One id per company, so scams of one company are scored only by models that never saw it.

    The company name where there is one; EMSCAD has no name column, but its
    `company_profile` is the employer's own boilerplate, so equal profiles
    (after case and whitespace folding) are one company. Rows with neither
    are their own company. Rows of one `group` (reposts) are always joined.
    """
    n = len(frame)
    uf = _UnionFind(n)
    first: dict[str, int] = {}

    def column(name):
        return frame[name].tolist() if name in frame else [None] * n

    for i, (company, profile, group) in enumerate(zip(column("company"), column("company_profile"), column("group"))):
        keys = []
        name = company_key(company)
        if name:
            keys.append(f"company:{name}")
        if isinstance(profile, str) and profile.strip():
            folded = re.sub(r"\s+", " ", profile.casefold()).strip()
            keys.append("profile:" + hashlib.sha1(folded.encode("utf-8")).hexdigest())
        if isinstance(group, str) and group:
            keys.append(f"group:{group}")
        for key in keys:
            if key in first:
                uf.union(first[key], i)
            else:
                first[key] = i
    return np.asarray([f"c{uf.find(i)}" for i in range(n)])


def _train_without(frame: pd.DataFrame, test: np.ndarray) -> np.ndarray:
    """Every row not scored, minus rows sharing a group with a scored row (reposts elsewhere)."""
    held = np.zeros(len(frame), dtype=bool)
    held[test] = True
    if "group" in frame:
        held |= frame["group"].isin(set(frame["group"].iloc[test])).to_numpy()
    return np.flatnonzero(~held)


def _both_classes(frame: pd.DataFrame, rows: np.ndarray) -> bool:
    return frame["label"].iloc[rows].nunique() == 2


def held_out_sets(frame: pd.DataFrame, n_folds: int = 5, seed: int = 0) -> Iterator[HeldOutSet]:
    """Leave-one-out evaluation sets over a frame with `label`, `source` (or `board`/`origin`) and `group`.

    - each real board that is mostly legitimate: left out whole (its FPR, and
      recall on the few scams it holds);
    - each real board that is mostly scams (EMSCAD): `n_folds` folds grouped
      by `company_ids`;
    - the written corpus: `n_folds` folds grouped by `group`, stratified by label.
    A set whose training rows lack a class is skipped (logged).
    """
    frame = add_board_columns(frame.reset_index(drop=True))
    labels = frame["label"].to_numpy()
    for board in sorted(frame.loc[frame["origin"] == "real", "board"].unique()):
        rows = np.flatnonzero((frame["board"] == board).to_numpy())
        if labels[rows].mean() < 0.5:
            sets = [HeldOutSet(f"board:{board}", LEGIT_BOARD, board, _train_without(frame, rows), rows)]
        else:
            ids = company_ids(frame.iloc[rows])
            k = min(n_folds, len(set(ids)))
            if k < 2:
                log.warning("held-out: board %s has one company only; no unseen-company folds", board)
                continue
            folds = GroupKFold(n_splits=k, shuffle=True, random_state=seed).split(rows, groups=ids)
            sets = [
                HeldOutSet(f"companies:{board}:{f}", SCAM_COMPANIES, board, _train_without(frame, rows[t]), rows[t])
                for f, (_, t) in enumerate(folds)
            ]
        yield from _usable(frame, sets)
    written = np.flatnonzero((frame["origin"] == "written").to_numpy())
    if len(written):
        groups = frame["group"].to_numpy()[written] if "group" in frame else np.arange(len(written))
        k = min(n_folds, len(set(groups)), int(np.bincount(labels[written], minlength=2).min()))
        if k >= 2:
            folds = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(written, labels[written], groups)
            yield from _usable(
                frame,
                [HeldOutSet(f"written:{f}", WRITTEN_GROUPS, "written", _train_without(frame, written[t]), written[t]) for f, (_, t) in enumerate(folds)],
            )


def _usable(frame: pd.DataFrame, sets: Sequence[HeldOutSet]) -> Iterator[HeldOutSet]:
    for s in sets:
        if _both_classes(frame, s.train):
            yield s
        else:
            log.warning("held-out: skipping %s (its training rows hold one class only)", s.name)


def _fit_and_score(classifier: BaselineClassifier, prepared: list, labels: np.ndarray, groups: np.ndarray | None, boards: np.ndarray, weights: np.ndarray | None, s: HeldOutSet):
    # The threshold reads the margin of the linear model fitted on all the set's rows, which the
    # number of calibration folds does not change; two folds halve the cost of each held-out fit.
    model = clone(classifier).set_params(calibration_folds=min(2, classifier.calibration_folds))
    model.fit(
        [prepared[i] for i in s.train], labels[s.train], groups=None if groups is None else groups[s.train], sample_weight=weights, sources=boards[s.train]
    )
    test = [prepared[i] for i in s.test]
    return model.decision_function(test), model.predict_proba(test)[:, 1]


def run_held_out(
    classifier: BaselineClassifier,
    prepared: list,
    frame: pd.DataFrame,
    sets: Sequence[HeldOutSet] | None = None,
    weights: Callable[[pd.DataFrame], np.ndarray] | None = board_balanced_weights,
    n_jobs: int = 2,
) -> pd.DataFrame:
    """Fit a fresh clone of `classifier` per set and score its held-out rows.

    `prepared` are the frame's listings, already through `prepare_many` (red
    flags found once, not once per fit); `weights(train_frame)` gives the
    sample weights of each fit (None: unweighted). Each fit holds its own
    feature matrix, so memory grows with `n_jobs`. Returns one row per scored
    ad: set, kind, board, origin, id, label, margin (uncalibrated),
    probability (the fold model's own calibration) and decisive (a decisive
    trafficking rule flags it at any threshold).
    """
    from joblib import delayed

    frame = add_board_columns(frame.reset_index(drop=True))
    if len(prepared) != len(frame):
        raise ValueError(f"prepared listings ({len(prepared)}) and frame rows ({len(frame)}) differ")
    sets = list(held_out_sets(frame)) if sets is None else list(sets)
    labels = frame["label"].to_numpy().astype(int)
    groups = frame["group"].to_numpy() if "group" in frame else None
    boards = frame["board"].to_numpy()  # the vectorizer's min_source_support counts boards
    jobs = [
        delayed(_fit_and_score)(classifier, prepared, labels, groups, boards, None if weights is None else weights(frame.iloc[s.train]), s)
        for s in sets
    ]
    results = _run_jobs(jobs, sets, n_jobs)
    parts = []
    for s, (margins, probs) in zip(sets, results):
        rows = frame.iloc[s.test]
        parts.append(
            pd.DataFrame(
                {
                    "set": s.name,
                    "kind": s.kind,
                    "board": rows["board"].to_numpy(),
                    "origin": rows["origin"].to_numpy(),
                    "id": rows["id"].to_numpy(),
                    "lang": rows["lang"].to_numpy() if "lang" in rows else None,
                    "label": labels[s.test],
                    "margin": margins,
                    "probability": probs,
                    # Flagged by a decisive trafficking rule whatever the margin (as the API does).
                    "decisive": decisive_flags([prepared[i] for i in s.test]),
                }
            )
        )
    columns = ["set", "kind", "board", "origin", "id", "lang", "label", "margin", "probability", "decisive"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def _run_jobs(jobs: list, sets: Sequence[HeldOutSet], n_jobs: int) -> list:
    """Run the fits `n_jobs` at a time in worker processes; a batch whose worker dies is rerun here.

    A held-out run is long, and on a shared machine a worker can be killed
    from outside (memory pressure, a stray signal); losing every finished fit
    to one dead worker would waste the run.
    """
    from joblib import Parallel
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    results: list = []
    step = max(1, n_jobs)
    for start in range(0, len(jobs), step):
        batch = jobs[start : start + step]
        began = time.time()
        try:
            results += Parallel(n_jobs=n_jobs, verbose=0)(batch) if n_jobs > 1 else [f(*a, **k) for f, a, k in batch]
        except TerminatedWorkerError as exc:
            log.warning("held-out: a worker died (%s); fitting %s in this process", exc.__class__.__name__, ", ".join(s.name for s in sets[start : start + step]))
            results += [f(*a, **k) for f, a, k in batch]
        log.info("held-out: %s done in %.0f s", ", ".join(s.name for s in sets[start : start + step]), time.time() - began)
    return results


@dataclass(frozen=True)
class UnseenThreshold:
    margin: float
    set_by: str  # the left-out board whose FPR bound is the binding one
    max_fpr: float
    per_board: dict  # board -> {"n", "false_positives", "false_positive_rate"} at the chosen margin

    def as_dict(self) -> dict:
        return {"margin": self.margin, "set_by": self.set_by, "max_fpr": self.max_fpr, "per_board": self.per_board}


def unseen_board_threshold(margins, labels, boards, max_fpr: float = 0.01) -> UnseenThreshold:
    """The lowest margin at which every board's legitimate ads have FPR <= max_fpr (flagged: margin >= t).

    A board with n legitimate ads may have floor(max_fpr * n) of them at or
    above the threshold, so its bound is just above its (floor + 1)-th highest
    margin; the threshold is the highest bound, and that board sets it.
    """
    margins = np.asarray(margins, dtype=float)
    labels = np.asarray(labels).astype(int)
    boards = np.asarray([str(b) for b in boards])
    if not 0 <= max_fpr < 1:
        raise ValueError(f"max_fpr must be in [0, 1) (got {max_fpr})")
    bounds = {}
    for board in sorted(set(boards[labels == 0].tolist())):
        legit = np.sort(margins[(boards == board) & (labels == 0)])[::-1]
        allowed = int(np.floor(max_fpr * len(legit) + 1e-9))
        bounds[board] = float(np.nextafter(legit[allowed], np.inf)) if allowed < len(legit) else -np.inf
    if not bounds:
        raise ValueError("no legitimate ads from a left-out board: cannot choose an unseen-board threshold")
    set_by = max(bounds, key=lambda b: (bounds[b], b))
    threshold = bounds[set_by]
    per_board = {}
    for board in bounds:
        legit = margins[(boards == board) & (labels == 0)]
        fp = int((legit >= threshold).sum())
        per_board[board] = {"n": len(legit), "false_positives": fp, "false_positive_rate": round(fp / len(legit), 4)}
    return UnseenThreshold(margin=threshold, set_by=set_by, max_fpr=max_fpr, per_board=per_board)


def margin_to_probability(classifier: BaselineClassifier, margin: float) -> float:
    """The final model's calibrated probability at a linear margin.

    The baseline's probability is expit(-(a * margin + b)) with the sigmoid
    calibrator's a_, b_ (averaged over calibrated members when there are
    several, each taken at the same margin). Raises for a model that is not a
    sigmoid-calibrated linear one, or whose calibration decreases with the
    margin (then a margin threshold has no probability equivalent).
    """
    members = sigmoid_linear_members(classifier.calibrated_)
    if members is None:
        raise ValueError("the unseen-board threshold needs a sigmoid-calibrated linear model")
    if any(m.calibrators[0].a_ >= 0 for m in members):
        raise ValueError("the model's calibration does not increase with the margin; cannot map a margin threshold to a probability")
    return float(np.mean([expit(-(m.calibrators[0].a_ * margin + m.calibrators[0].b_)) for m in members]))


def _rate(values: np.ndarray, seed: int) -> dict:
    values = np.asarray(values, dtype=float)
    n = len(values)
    return {"value": round(float(values.mean()), 4) if n else None, "ci95": bootstrap_interval(values, seed=seed), "n": int(n), "few": bool(n < FEW_ADS)}


def decision_margins(rows: pd.DataFrame) -> np.ndarray:
    """Each row's margin, +inf where a decisive rule flags it (older runs without the column: the margin)."""
    margins = rows["margin"].to_numpy(dtype=float)
    if "decisive" not in rows:
        return margins
    return np.where(rows["decisive"].to_numpy(dtype=bool), np.inf, margins)


def summarize_held_out(scored: pd.DataFrame, margin: float, seed: int = 0) -> dict:
    """Per left-out board FPR, unseen-company recall per scam board and written-corpus recall, at `margin`.

    Every rate has ci95 and n, and `few` when n < 30. Real and written ads are
    reported apart.
    """
    out: dict = {"legitimate_boards": {}, "scam_boards_unseen_companies": {}, "written": {}}

    def rates(rows: pd.DataFrame) -> dict:
        flagged = decision_margins(rows) >= margin
        labels = rows["label"].to_numpy()
        return {"legit": flagged[labels == 0], "scams": flagged[labels == 1]}

    for board, rows in scored[scored["kind"] == LEGIT_BOARD].groupby("board"):
        r = rates(rows)
        out["legitimate_boards"][board] = {"false_positive_rate": _rate(r["legit"], seed), **({"recall": _rate(r["scams"], seed)} if len(r["scams"]) else {})}
    for board, rows in scored[scored["kind"] == SCAM_COMPANIES].groupby("board"):
        r = rates(rows)
        out["scam_boards_unseen_companies"][board] = {"recall": _rate(r["scams"], seed), **({"false_positive_rate": _rate(r["legit"], seed)} if len(r["legit"]) else {})}
    written = scored[scored["kind"] == WRITTEN_GROUPS]
    if len(written):
        r = rates(written)
        out["written"] = {"recall": _rate(r["scams"], seed), "false_positive_rate": _rate(r["legit"], seed)}
    return out
