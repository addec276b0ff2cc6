"""Baseline quality, next to a plain TF-IDF + logistic regression, in one run.

    python benchmarks/bench_baseline.py [--shared-data ../shared/data] [--out runs/bench_baseline.json]

1. Grouped split (dedup + company/duplicate groups) of ../shared/data plus
   the project's corpus: test-split metrics, pooled, per language and per
   source, for
     - plain:       word 1-2-gram TF-IDF + class-weighted LR on the raw text,
                    trained on everything
     - lurescan:    the recipe of the bundled default model (word + char
                    n-grams, red flags, source balancing, calibration),
                    trained without EMSCAD (scams and legitimate ads)
     - with-emscad: the same recipe trained on everything
     - no-redflags: lurescan without red-flag features (ablation)
2. Leave-one-source-out: train without one source family, score all of it:
   false-positive rate for a legitimate source, recall for a scam source.
   Every real scam in ../shared/data comes from EMSCAD, so this table, not
   the pooled one, shows whether a model learned fraud or source style.
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

from lurescan.model.baseline import BaselineClassifier
from lurescan.model.features import ListingVectorizer, prepare_many
from lurescan.model.threshold import choose_threshold
from lurescan.training.data import frame_to_listings
from lurescan.training.metrics import binary_metrics, format_table, sliced_metrics
from lurescan.training.train import DataArgs, prepare_splits, source_balanced_weights

REPO = Path(__file__).resolve().parents[1]


def source_family(source: str) -> str:
    """Sources that are one origin (two Glassdoor scrapes, Wanted's job groups) count as one."""
    for prefix, family in (("glassdoor", "glassdoor"), ("wanted", "wanted"), ("emscad", "emscad"), ("google", "google_careers"), ("topcv", "topcv"), ("lurescan", "lurescan_corpus")):
        if source.startswith(prefix):
            return family
    return source


class PlainTfidf(ClassifierMixin, BaseEstimator):
    """The plain comparator: word 1-2-gram TF-IDF of the whole raw text + LR."""

    def fit(self, listings, y):
        self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=300_000)
        X = self.vectorizer_.fit_transform([self._text(l) for l in listings])
        self.model_ = LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear").fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    @staticmethod
    def _text(listing):
        return "\n".join(v for _, v in listing.text_fields())

    def predict_proba(self, listings):
        return self.model_.predict_proba(self.vectorizer_.transform([self._text(l) for l in listings]))


# name -> (factory, balance sources?, source families left out of training)
# "lurescan" is the recipe of the bundled default model: EMSCAD is left
# out of its training because its scams taught it source style (see the README).
MODELS = {
    "plain": (lambda: PlainTfidf(), False, ()),
    "lurescan": (lambda: BaselineClassifier(), True, ("emscad",)),
    "with-emscad": (lambda: BaselineClassifier(), True, ()),
    "no-redflags": (lambda: BaselineClassifier(vectorizer=ListingVectorizer(use_redflags=False)), True, ("emscad",)),
}


def make_models():
    return MODELS


def listings_of(frame, name):
    listings = frame_to_listings(frame)
    return prepare_many(listings) if name != "plain" else listings


def without_sources(frame, families):
    """Rows whose source family is not in `families` (a model's left-out sources)."""
    return frame[~frame["source"].map(source_family).isin(families)]


def fit_and_threshold(name, spec, train, val):
    factory, balance, excluded = spec
    train, val = without_sources(train, excluded), without_sources(val, excluded)
    t0 = time.perf_counter()
    model = factory()
    X = listings_of(train, name)
    if name == "plain":
        model.fit(X, train["label"].to_numpy())
    else:
        weights = source_balanced_weights(train) if balance else None
        model.fit(X, train["label"].to_numpy(), groups=train["group"].to_numpy(), sample_weight=weights)
    fit_seconds = time.perf_counter() - t0
    weights = source_balanced_weights(val) if balance else None
    choice = choose_threshold(val["label"].to_numpy(), model.predict_proba(listings_of(val, name))[:, 1], sample_weight=weights)
    return model, choice.threshold, fit_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared-data", default=os.environ.get("LURESCAN_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    parser.add_argument("--corpus", default=str(REPO / "data" / "corpus"))
    parser.add_argument("--out", default=str(REPO / "runs" / "bench_baseline.json"))
    parser.add_argument("--skip-loso", action="store_true", help="only the grouped-split table")
    args = parser.parse_args()

    shared = Path(args.shared_data)
    files = sorted(str(p) for p in shared.glob("*/*_text_label.csv")) + [str(shared / "emscad_fraud_train.csv.gz")]
    files += sorted(str(p) for p in Path(args.corpus).glob("*.jsonl"))
    data, _, dedup, split, train, val, test = prepare_splits(DataArgs(data=files), progress=False)
    data["family"] = data["source"].map(source_family)
    print(f"rows after dedup: {len(data)} (train {len(train)}, validation {len(val)}, test {len(test)}); {dedup.as_dict()}")

    report = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}, "split": split.as_dict(), "grouped_split": {}, "leave_one_source_out": {}}
    rows = {}
    for name, factory in make_models().items():
        model, threshold, fit_seconds = fit_and_threshold(name, factory, train, val)
        t0 = time.perf_counter()
        probs = model.predict_proba(listings_of(test, name))[:, 1]
        score_seconds = time.perf_counter() - t0
        metrics = sliced_metrics(test["label"].to_numpy(), probs, threshold, {"language": test["lang"].tolist(), "source": test["source"].map(source_family).tolist()})
        metrics["fit_seconds"] = round(fit_seconds, 1)
        metrics["test_listings_per_second"] = round(len(test) / score_seconds, 1)
        report["grouped_split"][name] = metrics
        rows[name] = metrics["overall"]
        print(f"\n== {name}: fit {fit_seconds:.1f}s, scoring {len(test) / score_seconds:.0f} listings/s (incl. preparation)")
        print("per language:\n" + format_table(metrics["by_language"]))
        print("per source:\n" + format_table(metrics["by_source"]))
    print("\n== grouped split, test, pooled\n" + format_table(rows))

    if not args.skip_loso:
        families = sorted(data["family"].unique())
        table = {}
        for held in families:
            rest = data[data["family"] != held]
            out = data[data["family"] == held]
            r_train, r_val = rest[rest["split"] != "validation"], rest[rest["split"] == "validation"]
            if r_train["label"].nunique() < 2 or r_val["label"].nunique() < 2:
                print(f"skip {held}: the other sources lack a class")
                continue
            for name, factory in make_models().items():
                if without_sources(r_train, factory[2])["label"].nunique() < 2:
                    # e.g. holding out the corpus from a model that also leaves EMSCAD out: no scams remain.
                    table.setdefault(held, {})[name] = {"skipped": "no scams left to train on"}
                    print(f"LOSO {held:16s} {name:12s} skipped: no scams left to train on")
                    continue
                model, threshold, _ = fit_and_threshold(name, factory, r_train, r_val)
                probs = model.predict_proba(listings_of(out, name))[:, 1]
                m = binary_metrics(out["label"].to_numpy(), probs, threshold)
                entry = {"rows": m["n"], "scams": m["scams"], "recall": m["recall"], "false_positive_rate": m["false_positive_rate"], "pr_auc": m["pr_auc"]}
                table.setdefault(held, {})[name] = entry
                print(f"LOSO {held:16s} {name:12s} {entry}")
        report["leave_one_source_out"] = table
        print("\n== leave one source out: recall (scam sources) / false-positive rate (legitimate sources)")
        print(f"{'held-out source':18s}" + "".join(f"{n:>26s}" for n in make_models()))
        for held, per_model in table.items():
            cells = []
            for name in make_models():
                e = per_model.get(name, {})
                cells.append(f"R={e.get('recall')} FPR={e.get('false_positive_rate')}")
            print(f"{held:18s}" + "".join(f"{c:>26s}" for c in cells))

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
