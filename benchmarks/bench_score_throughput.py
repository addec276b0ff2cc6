"""Throughput and peak memory of `lurescan score` on a large file.

    python benchmarks/bench_score_throughput.py --rows 100000 [--model DIR]

Builds an N-row CSV by sampling real ads (../shared/data and data/corpus,
with replacement), then times `lurescan score` on it in a fresh process and
reads that process's peak RSS. In the same run, the plain comparator: read
the same file with pandas and score it with a word 1-2-gram TF-IDF + logistic
regression, and with a character 2-5-gram one (no red flags, no reasons):
the floor of what scoring can cost. `lurescan score` runs once with one
worker and once with its default (one worker per core); the two outputs must
be identical, and every row's speed is also given as a ratio to the plain word
pipeline of the same run.
A second, smaller file shows that peak memory does not grow with file size
(the scorer streams in chunks).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def sample_listings(n: int, shared: Path, seed: int = 0) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False)[["title", "company", "location", "salary", "text"]] for p in sorted(shared.glob("*/*_text_label.csv"))]
    frames += [pd.read_json(p, lines=True, dtype=False)[["title", "company", "location", "salary", "text"]] for p in sorted((REPO / "data" / "corpus").glob("*.jsonl"))]
    pool = pd.concat(frames, ignore_index=True)
    rng = np.random.default_rng(seed)
    out = pool.iloc[rng.integers(0, len(pool), n)].reset_index(drop=True)
    out.insert(0, "listing_id", [f"bench-{i}" for i in range(n)])
    return out


# Runs one command and prints its wall time and peak RSS: a fresh wrapper per
# measurement, since RUSAGE_CHILDREN keeps the maximum over all past children.
MEASURE = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(json.dumps([time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]))
"""


def run_child(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a command, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], check=True, capture_output=True, text=True).stdout
    wall, peak = json.loads(out.strip().splitlines()[-1])
    return wall, peak


PLAIN = """
import sys, time, pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
src, out, analyzer = sys.argv[1], sys.argv[2], sys.argv[3]
kwargs = dict(ngram_range=(1, 2)) if analyzer == "word" else dict(analyzer="char_wb", ngram_range=(2, 5), max_features=2**18)
train = pd.read_csv(src, dtype=str, keep_default_na=False, nrows=5000)
vec = TfidfVectorizer(sublinear_tf=True, min_df=2, **kwargs).fit(train["text"])
clf = LogisticRegression().fit(vec.transform(train["text"]), [i % 2 for i in range(len(train))])
with open(out, "w") as fh:
    for i, chunk in enumerate(pd.read_csv(src, dtype=str, keep_default_na=False, chunksize=2000)):
        chunk["scam_probability"] = clf.predict_proba(vec.transform(chunk["title"] + "\\n" + chunk["text"]))[:, 1]
        chunk.to_csv(fh, index=False, header=i == 0)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--model", default=None, help="bundle (default: the bundled model)")
    parser.add_argument("--shared-data", default=os.environ.get("LURESCAN_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    parser.add_argument("--workdir", default=str(REPO / "runs" / "throughput"))
    parser.add_argument("--out", default=str(REPO / "runs" / "bench_score_throughput.json"))
    args = parser.parse_args()

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    big, small = work / f"listings_{args.rows}.csv", work / "listings_small.csv"
    frame = sample_listings(args.rows, Path(args.shared_data))
    frame.to_csv(big, index=False)
    frame.head(max(args.rows // 10, 1000)).to_csv(small, index=False)
    chars = int(frame["text"].str.len().mean())

    lurescan = [sys.executable, "-m", "lurescan", "score", "--input"]
    model = ["--model", args.model] if args.model else []
    results = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()}, "rows": args.rows, "mean_text_chars": chars}
    results["load_average_before"] = os.getloadavg()
    plain_word = "plain word TF-IDF+LR (pandas)"
    for name, cmd, rows in (
        ("lurescan score (small file)", lurescan + [str(small), "--output", str(work / "scored_small.csv"), "--no-progress"] + model, min(len(frame), max(args.rows // 10, 1000))),
        ("lurescan score --workers 1", lurescan + [str(big), "--output", str(work / "scored_1.csv"), "--no-progress", "--workers", "1"] + model, args.rows),
        ("lurescan score (one worker per core)", lurescan + [str(big), "--output", str(work / "scored.csv"), "--no-progress"] + model, args.rows),
        (plain_word, [sys.executable, "-c", PLAIN, str(big), str(work / "plain.csv"), "word"], args.rows),
        ("plain char n-gram TF-IDF+LR (pandas)", [sys.executable, "-c", PLAIN, str(big), str(work / "plain_char.csv"), "char"], args.rows),
    ):
        wall, peak = run_child(cmd)
        results[name] = {"rows": rows, "seconds": round(wall, 1), "listings_per_second": round(rows / wall, 1), "peak_rss_mib": round(peak, 1)}
        print(f"{name:40s} {rows:>8d} rows  {wall:8.1f} s  {rows / wall:8.1f} listings/s  peak RSS {peak:7.1f} MiB")
    for name, entry in results.items():
        if isinstance(entry, dict) and "listings_per_second" in entry and name != plain_word:
            entry["x_plain_word"] = round(entry["listings_per_second"] / results[plain_word]["listings_per_second"], 3)
            print(f"{name:40s} {entry['x_plain_word']:.2f}x the plain word pipeline")
    scored = pd.read_csv(work / "scored.csv", usecols=["listing_id", "scam_probability", "flagged", "reasons"])
    one = pd.read_csv(work / "scored_1.csv", usecols=["listing_id", "scam_probability", "flagged", "reasons"])
    assert len(scored) == args.rows and scored["listing_id"].iloc[-1] == f"bench-{args.rows - 1}"
    pd.testing.assert_frame_equal(scored, one)  # the workers change nothing but the time
    results["workers_output_identical"] = True
    results["flagged_share"] = round(float(scored["flagged"].mean()), 4)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"mean text length {chars} chars; flagged share {results['flagged_share']}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
