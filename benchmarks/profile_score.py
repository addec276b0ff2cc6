"""Where `lurescan score --input` spends its time, stage by stage, per listing.

    python benchmarks/profile_score.py [--rows 5000] [--model DIR] [--out benchmarks/results/profile_score.json]

Samples real ads as bench_score_throughput.py does, then runs the same
`score_file` call that `lurescan score --input` makes (one process, one
worker) under cProfile and attributes the time to the stages a listing goes
through: reading the file, normalising fields, red-flag matching, the
destination pass, the two views of the text, word and character n-gram
hashing, the red-flag feature block, the linear model, the scam-kind heads,
language detection, reasons and spans, result objects and writing. Each
stage is the cumulative time of the functions that implement it (listed in
the JSON), so the stages do not overlap; "other" is what is left of the
whole call. cProfile slows Python-level code more than C-level code (the
regex engine, numpy), so read the shares as a ranking, and the wall time
without the profiler (measured first) as the real cost.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_score_throughput import sample_listings  # noqa: E402

from lurescan.bulk.local_engine import score_file  # noqa: E402
from lurescan.model.scoring import load_scorer  # noqa: E402

# stage -> (module file suffix, function name) pairs whose cumulative time is the stage.
STAGES = {
    "read file and build listings": [("model/tables.py", "iter_chunks"), ("model/tables.py", "frame_to_listings"), ("model/tables.py", "_iter_jsonl")],
    "normalise fields": [("model/textnorm.py", "quick_normalize"), ("model/reading.py", "cap_text")],
    "red-flag matching": [("model/redflags/engine.py", "match_text")],
    "destination pass": [("model/redflags/destination.py", "resolve_listing_destinations")],
    "masked view": [("model/textview.py", "mask_contacts"), ("model/textview.py", "head_tail")],
    "neutral view": [("model/textview.py", "neutral_text")],
    "word n-gram hashing": [("model/features.py", "_word_counts")],
    "char n-gram hashing": [("model/ngrams.py", "hash_counts")],
    "red-flag feature block": [("model/features.py", "redflag_block")],
    "linear model and calibration": [("model/features.py", "sublinear_tfidf_l2_dot"), ("model/baseline.py", "_sigmoid_average")],
    "scam-kind heads": [("model/kinds.py", "category_scores")],
    "language detection": [("model/language.py", "detect_language")],
    "reasons and spans": [("model/reasons.py", "red_flag_reasons"), ("model/offsets.py", "add_offset_units"), ("model/reading.py", "scored_raw_spans")],
    "writing the output": [("model/tables.py", "write")],
}


def _is(key, suffix: str, name: str) -> bool:
    filename, _line, func = key
    return func == name and filename.replace(os.sep, "/").endswith(suffix)


def stage_times(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative seconds per stage, from the profile's per-caller totals.

    A stage function called from inside another stage (mask_contacts inside
    the neutral view, say) belongs to the outer one: only calls from outside
    every stage count, so the stages never overlap.
    """
    raw = stats.stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    every = [f for functions in STAGES.values() for f in functions]
    in_stage = {key for key in raw if any(_is(key, s, n) for s, n in every)}
    out = {}
    for stage, functions in STAGES.items():
        total = 0.0
        for key, (_cc, _nc, _tt, _ct, callers) in raw.items():
            if any(_is(key, s, n) for s, n in functions):
                total += sum(entry[3] for caller, entry in callers.items() if caller not in in_stage)
        out[stage] = total
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--model", default=None, help="bundle directory (default: the packaged default)")
    parser.add_argument("--shared-data", type=Path, default=Path(os.environ.get("LURESCAN_SHARED_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "profile_score.json")
    args = parser.parse_args()

    scorer = load_scorer(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        frame = sample_listings(args.rows, args.shared_data)
        frame.to_csv(src, index=False)
        score_file(scorer, src, dst, progress=False)  # warm: rules compiled, caches filled
        t0 = time.perf_counter()
        score_file(scorer, src, dst, progress=False)
        wall = time.perf_counter() - t0
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.runcall(score_file, scorer, src, dst, progress=False)
        profiled_wall = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    stages = stage_times(stats)
    other = max(profiled_wall - sum(stages.values()), 0.0)
    n = len(frame)
    rows = {name: {"seconds": round(s, 3), "share": round(s / profiled_wall, 4), "us_per_listing": round(s / n * 1e6, 1)} for name, s in stages.items()}
    rows["other (result objects, pandas, glue)"] = {"seconds": round(other, 3), "share": round(other / profiled_wall, 4), "us_per_listing": round(other / n * 1e6, 1)}
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(), "load_average": os.getloadavg()},
        "model_version": scorer.model_version,
        "rows": n,
        "mean_chars": round(float(frame[["title", "company", "location", "salary", "text"]].astype(str).apply(lambda r: sum(map(len, r)), axis=1).mean()), 1),
        "wall_seconds_unprofiled": round(wall, 3),
        "listings_per_second_unprofiled": round(n / wall, 1),
        "wall_seconds_profiled": round(profiled_wall, 3),
        "stages": dict(sorted(rows.items(), key=lambda kv: -kv[1]["seconds"])),
        "stage_functions": {k: [f"{s}:{f}" for s, f in v] for k, v in STAGES.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{n} listings, {report['mean_chars']} characters on average; unprofiled {wall:.2f} s ({n / wall:.0f} listings/s)")
    print(f"{'stage':<40} {'share':>7} {'µs/listing':>11}")
    for name, r in report["stages"].items():
        print(f"{name:<40} {r['share']:>7.1%} {r['us_per_listing']:>11.1f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
