"""How the baseline's settings were chosen: grouped 5-fold cross-validation.

    python benchmarks/tune_baseline.py [--configs default,no-metadata,...]

Out-of-fold scores for every row of ../shared/data plus the project's corpus
(folds grouped by company and near-duplicate cluster). What matters most is
the corpus: scams and legitimate ads in the same languages and formats, so
its out-of-fold PR-AUC and recall at 1% FPR measure fraud detection rather
than source detection. Listings are prepared once and reused by every config.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedGroupKFold

from lurescan.model.baseline import BaselineClassifier
from lurescan.model.features import ListingVectorizer, prepare_many
from lurescan.training.boards import add_board_columns, board_balanced_weights
from lurescan.training.data import frame_to_listings, load_training_data
from lurescan.training.dedup import deduplicate
from lurescan.training.metrics import recall_at_fpr
from lurescan.training.split import assign_groups

REPO = Path(__file__).resolve().parents[1]

# Each entry changes one thing against the current defaults (BaselineClassifier,
# ListingVectorizer and source-balanced weights as `lurescan train` uses them).
CONFIGS = {
    "default": dict(),
    "with-metadata": dict(vectorizer=dict(use_metadata=True)),
    "unbalanced": dict(balance=False),
    "no-redflags": dict(vectorizer=dict(use_redflags=False)),
    "redflags-x3": dict(vectorizer=dict(redflag_weight=3.0)),
    "C=1": dict(C=1.0),
    "C=16": dict(C=16.0),
    "char-1-4": dict(vectorizer=dict(char_ngram_range=(1, 4))),
    "default-bundle-size": dict(vectorizer=dict(n_char_features=2**18, n_word_features=2**17)),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared-data", default=os.environ.get("LURESCAN_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", default=str(REPO / "runs" / "tune_baseline.json"))
    args = parser.parse_args()
    shared = Path(args.shared_data)
    files = sorted(str(p) for p in shared.glob("*/*_text_label.csv")) + [str(shared / "emscad_fraud_train.csv.gz")]
    files += sorted(str(p) for p in (REPO / "data" / "corpus").glob("*.jsonl"))
    data, _ = load_training_data(files)
    data, _ = deduplicate(data)
    groups, _ = assign_groups(data)
    prepared = prepare_many(frame_to_listings(data))
    y = data["label"].to_numpy()
    corpus = (data["source"] == "lurescan_corpus").to_numpy()
    strata = data["label"].astype(str) + data["source"]
    folds = list(StratifiedGroupKFold(args.folds, shuffle=True, random_state=7).split(np.zeros(len(y)), strata, groups))
    results = {}
    for name in args.configs.split(","):
        cfg = CONFIGS[name]
        t0 = time.perf_counter()
        oof = np.zeros(len(y))
        for train_idx, test_idx in folds:
            train = data.iloc[train_idx]
            clf = BaselineClassifier(vectorizer=ListingVectorizer(**cfg.get("vectorizer", {})), C=cfg.get("C", 4.0))
            weights = board_balanced_weights(add_board_columns(train)) if cfg.get("balance", True) else None
            clf.fit([prepared[i] for i in train_idx], y[train_idx], groups=groups.iloc[train_idx].to_numpy(), sample_weight=weights)
            oof[test_idx] = clf.predict_proba([prepared[i] for i in test_idx])[:, 1]
        per_lang = {}
        for lang in sorted(data.loc[corpus, "lang"].unique()):
            m = corpus & (data["lang"] == lang).to_numpy()
            per_lang[lang] = round(average_precision_score(y[m], oof[m]), 4)
        results[name] = {
            "pooled_pr_auc": round(average_precision_score(y, oof), 4),
            "corpus_pr_auc": round(average_precision_score(y[corpus], oof[corpus]), 4),
            "corpus_recall_at_1pct_fpr": round(recall_at_fpr(y[corpus], oof[corpus], 0.01), 4),
            "corpus_recall_at_5pct_fpr": round(recall_at_fpr(y[corpus], oof[corpus], 0.05), 4),
            "public_legit_mean_score": round(float(oof[(~corpus) & (y == 0)].mean()), 4),
            "corpus_pr_auc_by_language": per_lang,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(name, json.dumps(results[name]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
