"""The shipped model's scores on fixed ads, so that speed work can prove it changed nothing.

    python tests/model/golden_scores.py --write     # after rebuilding model/default_bundle

Scores every ad of the project's corpus and the first `PER_FILE` ads of each
real-data file in ../shared/data with the packaged bundle and writes
`tests/fixtures/golden_scores.csv.gz` (file, row, probability as 17
significant digits, flagged). `tests/model/test_golden_scores.py` scores the
same ads again and requires every probability within 1e-9 and every decision
equal. The file records the bundle's model version: a rebuilt bundle needs
`--write`, a faster scoring path must not.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from pathlib import Path

import pandas as pd

from lurescan.model.listing import TEXT_FIELDS

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "fixtures" / "golden_scores.csv.gz"
PER_FILE = 200


def shared_dir() -> Path:
    return Path(os.environ.get("LURESCAN_SHARED_DATA", REPO.parent / "shared" / "data"))


def golden_ads(shared: Path) -> list[tuple[str, int, dict]]:
    """(file as named in the golden file, row, listing) for every ad the golden file scores."""
    ads = []
    for path in sorted((REPO / "data" / "corpus").glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                row = json.loads(line)
                ads.append((f"corpus/{path.name}", i, {k: row[k] for k in TEXT_FIELDS if row.get(k)}))
    for path in sorted(shared.glob("*/*_text_label.csv")) + sorted(shared.glob("emscad*.csv.gz")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=PER_FILE).rename(columns={"salary_range": "salary"})
        for i, row in frame.iterrows():
            ads.append((f"shared/{path.name}", int(i), {k: row[k] for k in TEXT_FIELDS if row.get(k)}))
    return ads


def score_ads(ads: list[tuple[str, int, dict]], batch: int = 500) -> pd.DataFrame:
    from lurescan.model.scoring import load_scorer

    scorer = load_scorer()
    listings = [listing for _, _, listing in ads]
    scores = []
    for start in range(0, len(listings), batch):
        prepared = scorer.prepare(listings[start : start + batch])
        probs = scorer.scam_probability(prepared)
        decisions = scorer.score(prepared, explain=False)
        scores += [(float(p), d.flagged) for p, d in zip(probs, decisions)]
    return pd.DataFrame(
        {
            "file": [f for f, _, _ in ads],
            "row": [r for _, r, _ in ads],
            "probability": [p for p, _ in scores],
            "flagged": [f for _, f in scores],
            "model_version": scorer.model_version,
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write tests/fixtures/golden_scores.csv.gz")
    args = parser.parse_args()
    shared = shared_dir()
    if not shared.exists():
        raise SystemExit(f"error: shared data not found at {shared} (set LURESCAN_SHARED_DATA)")
    frame = score_ads(golden_ads(shared))
    if not args.write:
        print(frame.describe())
        return 0
    with gzip.open(GOLDEN, "wt", encoding="utf-8", newline="") as fh:
        frame.to_csv(fh, index=False, float_format="%.17g")
    print(f"wrote {len(frame)} scores of {frame['model_version'].iloc[0]} to {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
