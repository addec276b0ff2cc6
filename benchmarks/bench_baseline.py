"""What a new board and a new scammer see: lurescan next to a plain TF-IDF +
logistic regression, on the same held-out sets, in one run.

    python benchmarks/bench_baseline.py [--shared-data ../shared/data] [--out benchmarks/results/bench_baseline.json]

All the real data of ../shared/data (EMSCAD's scams included) and the
project's written corpus, deduplicated and split as `lurescan train` does;
the train+validation rows then go through the same held-out protocol
(training/heldout.py): each legitimate board left out whole, EMSCAD's scams
in folds grouped by company, the written corpus in folds grouped by group.
Each recipe gets its own threshold by the shipped rule: the lowest margin at
which every left-out legitimate board keeps at most 1% false positives. At
that threshold we report each left-out board's false-positive rate and the
recall on real scams of unseen companies and on written scams, with
bootstrap 95% intervals.

Recipes:
  plain     word 1-2-gram TF-IDF + class-weighted logistic regression on the
            raw text, every row weighted the same: what most public repos ship.
  raw       lurescan's features (word + char n-grams, red flags) on the raw
            text with board weights: the recipe before the source-neutral view.
  lurescan  the shipped recipe: source-neutral view, min_source_support,
            board-balanced weights, red flags.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from lurescan.model.features import prepare_many
from lurescan.model.redflags.engine import default_engine
from lurescan.training.arguments import BaselineArgs, DataArgs
from lurescan.training.boards import add_board_columns
from lurescan.training.build_default import REPO, training_files
from lurescan.training.data import frame_to_listings
from lurescan.training.heldout import (
    LEGIT_BOARD,
    decision_margins,
    held_out_sets,
    run_held_out,
    summarize_held_out,
    unseen_board_threshold,
)
from lurescan.training.split import prepare_splits
from lurescan.training.train import make_classifier


class PlainTfidfLR(ClassifierMixin, BaseEstimator):
    """Word 1-2-gram TF-IDF of the raw text + class-weighted logistic regression (no red flags, no source control)."""

    def __init__(self, C: float = 4.0, calibration_folds: int = 1):
        self.C = C
        self.calibration_folds = calibration_folds  # accepted for run_held_out; a plain LR is not recalibrated

    @staticmethod
    def _texts(prepared) -> list[str]:
        return ["\n".join(p.clean_fields.values()) for p in prepared]

    def fit(self, X, y, groups=None, sample_weight=None, sources=None):
        self.tfidf_ = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000)
        Z = self.tfidf_.fit_transform(self._texts(X))
        self.lr_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000, solver="liblinear").fit(Z, y)
        self.classes_ = self.lr_.classes_
        return self

    def decision_function(self, X) -> np.ndarray:
        return self.lr_.decision_function(self.tfidf_.transform(self._texts(X)))

    def predict_proba(self, X) -> np.ndarray:
        return self.lr_.predict_proba(self.tfidf_.transform(self._texts(X)))


def recipes() -> dict:
    small = dict(n_char_features=2**18, n_word_features=2**17)
    return {
        "plain": (PlainTfidfLR(), None),
        "raw": (make_classifier(BaselineArgs(text_view="raw", min_source_support=1, **small)), "balanced"),
        "lurescan": (make_classifier(BaselineArgs(**small)), "balanced"),
    }


def run(shared_data: Path, out: Path, jobs: int, names: list[str]) -> dict:
    started = time.time()
    os.chdir(REPO)
    files = [os.path.relpath(f, REPO) for f in training_files(shared_data.resolve(), (REPO / "data" / "corpus").resolve())]
    splits = prepare_splits(DataArgs(data=files), progress=False)
    train, val = splits.train, splits.val
    frame = add_board_columns(pd.concat([train, val], ignore_index=True))
    prepared = prepare_many(frame_to_listings(frame), default_engine())
    sets = list(held_out_sets(frame))
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "rows": len(frame),
        "sets": [s.name for s in sets],
        "split_sha256": splits.split.as_dict()["assignment_sha256"],
        "recipes": {},
    }
    for name, (classifier, weighting) in ((n, r) for n, r in recipes().items() if n in names):
        t0 = time.time()
        kwargs = {} if weighting else {"weights": None}
        scored = run_held_out(classifier, prepared, frame, sets=sets, n_jobs=jobs, **kwargs)
        if name == "plain":  # no red flags: no decisive rule flags anything for it
            scored = scored.drop(columns=["decisive"])
        legit = scored[(scored["kind"] == LEGIT_BOARD) & (scored["label"] == 0)]
        choice = unseen_board_threshold(decision_margins(legit), legit["label"].to_numpy(), legit["board"].to_numpy(), 0.01)
        summary = summarize_held_out(scored, choice.margin)
        report["recipes"][name] = {"threshold": choice.as_dict(), "seconds": round(time.time() - t0, 1), **summary}
        print(f"\n== {name} ({time.time() - t0:.0f} s): threshold set by {choice.set_by}")
        for board, entry in summary["legitimate_boards"].items():
            r = entry["false_positive_rate"]
            print(f"  left out {board:>16}: FPR {r['value']} {r['ci95']} n={r['n']}")
        for board, entry in summary["scam_boards_unseen_companies"].items():
            r = entry["recall"]
            print(f"  unseen companies {board}: recall {r['value']} {r['ci95']} n={r['n']}")
        if summary.get("written"):
            r = summary["written"]["recall"]
            print(f"  written, unseen groups: recall {r['value']} {r['ci95']} n={r['n']}")
    report["seconds"] = round(time.time() - started, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out}")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared-data", type=Path, default=Path(os.environ.get("LURESCAN_SHARED_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "bench_baseline.json")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--recipes", default="plain,raw,lurescan", help="comma-separated subset of plain, raw, lurescan")
    args = parser.parse_args()
    run(args.shared_data, args.out, args.jobs, [r.strip() for r in args.recipes.split(",") if r.strip()])
    return 0


if __name__ == "__main__":
    sys.exit(main())
