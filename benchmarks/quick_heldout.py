"""A quick held-out check for rule and parameter changes: a few of the default build's held-out fits, in minutes.

    python benchmarks/quick_heldout.py [--boards jobstreet_id,camhr] [--sets companies:emscad:0,companies:emscad:1,written:0]
                                       [--params '{"C": 2.0}'] [--out runs/quick_heldout.json]

The full default build (`make default-model`) fits 19 held-out models (about
20 minutes on 2 cores) before it knows its threshold. When a rule or a
parameter changes, a few of those fits tell most of the story: the legitimate
boards that set the threshold, left out whole, and a couple of unseen-company
and written folds. This script loads and splits the data exactly as the build
does, runs those fits with the build's recipe (`BaselineArgs` defaults, the
same sample weights, two calibration folds as in the build's held-out fits),
takes the threshold margin the build's rule would take from these boards
alone, and prints recall on the chosen folds at that margin. The figures are
a proxy for the build's, on the same folds: the build's own held-out run is
the one to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from lurescan.model.features import prepare_many
from lurescan.model.redflags.engine import default_engine
from lurescan.training.boards import add_board_columns, board_balanced_weights
from lurescan.training.build_default import REPO, default_model_args
from lurescan.training.data import frame_to_listings
from lurescan.training.heldout import LEGIT_BOARD, decision_margins, held_out_sets, run_held_out, unseen_board_threshold
from lurescan.training.split import prepare_splits
from lurescan.training.train import make_classifier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared-data", type=Path, default=Path(os.environ.get("LURESCAN_SHARED_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--boards", default="jobstreet_id,camhr", help="legitimate boards to leave out (they set the margin)")
    parser.add_argument("--sets", default="companies:emscad:0,companies:emscad:1,written:0", help="scam folds to score at that margin")
    parser.add_argument("--params", default="{}", help="JSON of BaselineClassifier parameters to change, e.g. '{\"C\": 2.0}'")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "quick_heldout.json")
    args = parser.parse_args()
    started = time.time()
    os.chdir(REPO)
    build = default_model_args(args.shared_data, REPO / "data" / "corpus", REPO / "runs" / "quick")
    m = build.model
    splits = prepare_splits(build.data, progress=False)
    train, val = splits.train, splits.val
    frame = add_board_columns(pd.concat([train, val], ignore_index=True))
    prepared = prepare_many(frame_to_listings(frame), default_engine(), m.max_chars)
    boards = {b.strip() for b in args.boards.split(",") if b.strip()}
    names = {s.strip() for s in args.sets.split(",") if s.strip()}
    sets = [s for s in held_out_sets(frame, n_folds=m.heldout_folds, seed=m.train_seed) if (s.kind == LEGIT_BOARD and s.board in boards) or s.name in names]
    missing = (boards | names) - {s.board if s.kind == LEGIT_BOARD else s.name for s in sets}
    if missing:
        raise SystemExit(f"error: no held-out set for {', '.join(sorted(missing))}")
    template = clone(make_classifier(m)).set_params(**json.loads(args.params))
    scored = run_held_out(template, prepared, frame, sets, weights=lambda f: board_balanced_weights(f, m.max_weight_ratio), n_jobs=args.jobs)
    legit = scored[(scored["kind"] == LEGIT_BOARD) & (scored["label"] == 0)]
    choice = unseen_board_threshold(decision_margins(legit), legit["label"], legit["board"], max_fpr=m.max_unseen_fpr)
    report = {"params": json.loads(args.params), "margin": round(choice.margin, 4), "set_by": choice.set_by, "boards": {}, "sets": {}}
    for board, rows in legit.groupby("board"):
        margins = np.sort(decision_margins(rows))[::-1]
        allowed = int(np.floor(m.max_unseen_fpr * len(margins) + 1e-9))
        report["boards"][board] = {"n": len(rows), "bound_margin": round(float(margins[allowed]), 4)}
    for name, rows in scored[scored["kind"] != LEGIT_BOARD].groupby("set"):
        flagged = decision_margins(rows) >= choice.margin
        labels = rows["label"].to_numpy()
        report["sets"][name] = {
            "scams": int((labels == 1).sum()),
            "recall": round(float(flagged[labels == 1].mean()), 4) if (labels == 1).any() else None,
            "false_positive_rate": round(float(flagged[labels == 0].mean()), 4) if (labels == 0).any() else None,
        }
    report["seconds"] = round(time.time() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
