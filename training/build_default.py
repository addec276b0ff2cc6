"""Rebuild the bundled default model: `make default-model`.

    python -m lurescan.training.build_default --shared-data ../shared/data --out model/default_bundle

Trains the baseline on the project's own corpus (`data/corpus/*.jsonl`) plus
the legitimate ads of the shared data (Glassdoor, Google careers, Wanted,
TopCV), with the standard grouped split, and writes the bundle that
`lurescan score` and `lurescan serve` use when no `--model` is given. Hash
sizes are smaller than the training default so the bundle stays a few MB.

EMSCAD (its scams and its legitimate ads) is left out on purpose. Its
scams are the only scams of the public data, all from one platform and era
(US, 2012-14) and mostly not overseas lures; with them, the model learned
"long US corporate English = scam": leave-one-source-out, it flagged 57% of
unseen Glassdoor ads and 23% of unseen Google ads, against 0% and 0% without
them, while the corpus results did not change (benchmarks/bench_baseline.py,
README). Researchers who want them pass the file to `lurescan train` as usual.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .train import BaselineArgs, DataArgs, TrainArgs, main

REPO = Path(__file__).resolve().parents[1]

DESCRIPTION = (
    "lurescan's bundled default model: word 1-2-gram and character 2-5-gram TF-IDF (hashed) and red-flag features in "
    "eleven languages, class-weighted and source-balanced logistic regression with "
    "cross-fitted sigmoid calibration. Trained on the project's own multilingual corpus of overseas-lure scams and "
    "legitimate ads (data/corpus) plus legitimate public job ads (Glassdoor, Google careers, Wanted, TopCV). EMSCAD's "
    "2012-14 scams are deliberately not used: they taught the model the style of one source rather than fraud "
    "(leave-one-source-out false-positive rate on unseen Glassdoor ads 57% with them, 0% without)."
)


def training_files(shared_data: Path, corpus: Path) -> list[str]:
    files = sorted(str(p) for p in corpus.glob("*.jsonl"))
    if not files:
        raise SystemExit(f"error: no corpus files in {corpus}")
    if not shared_data.exists():
        raise SystemExit(f"error: shared data not found at {shared_data} (pass --shared-data)")
    files += sorted(str(p) for p in shared_data.glob("*/*_text_label.csv"))
    return files


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared-data", type=Path, default=Path(os.environ.get("LURESCAN_SHARED_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--corpus", type=Path, default=REPO / "data" / "corpus")
    parser.add_argument("--out", type=Path, default=REPO / "model" / "default_bundle")
    parser.add_argument("--version", default=None, help="model version (default: lurescan-default-<date>)")
    args = parser.parse_args()
    from datetime import date

    os.chdir(REPO)
    main(
        TrainArgs(
            out=str(args.out),
            # Paths as seen from the repository root are what the model card records.
            data=DataArgs(data=[os.path.relpath(f, REPO) for f in training_files(args.shared_data.resolve(), args.corpus.resolve())]),
            model=BaselineArgs(n_char_features=2**18, n_word_features=2**17),
            model_version=args.version or f"lurescan-default-{date.today():%Y%m%d}",
            description=DESCRIPTION,
            progress=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(run())
