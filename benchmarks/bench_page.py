"""Latency of scoring one real-size HTML page, next to the same ad text sent as plain text.

    python benchmarks/bench_page.py [--runs 60] [--kb 200] [--out benchmarks/results/bench_page.json]

The page is tests/job_page.py's: ~200 KB of board markup (inline CSS, a JSON
state blob, navigation, hidden banners, ~200 result cards from the repo's
corpus) with the lure at the very end. Each run scores it end to end with
the default bundle, as the API does for `{"html": page}`: visible-text
extraction, normalisation with offsets, red flags, the classifier, reasons
with code-point, UTF-16 and visible-text offsets and the scored ranges.
The page caches are cleared before every run, so each run pays for reading
the page as a new request would.

Baseline, same run: the page's read text sent as plain `text` (no markup to
read, no visible offsets), the cost of scoring the content alone.

Acceptance (issue 14): p99 under 50 ms on 2 cores. Wall times depend on what
else runs on the machine, so the CPU time of the scoring thread is reported
beside them (scoring one listing is single-threaded), with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def _percentiles(ms: list[float]) -> dict:
    ordered = sorted(ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"runs": len(ms), "p50_ms": at(0.50), "p90_ms": at(0.90), "p99_ms": at(0.99), "max_ms": round(ordered[-1], 2)}


def _clear_caches() -> None:
    from lurescan.model import textnorm, visible_text

    visible_text._CACHE.clear()
    textnorm._HTML_NORMALIZED.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--kb", type=int, default=200, help="Page size in KB of UTF-8.")
    parser.add_argument("--out", type=Path, default=None, help="Write the figures as JSON here.")
    args = parser.parse_args()

    from job_page import build_page

    from lurescan.model.scoring import load_scorer
    from lurescan.model.textnorm import quick_normalize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scorer = load_scorer()
    page = build_page(args.kb * 1000)
    text = quick_normalize(page, page=True)
    scorer.score([{"html": page}])  # warm: rule tables, confusables data, the model
    scorer.score([{"text": text}])

    def timed(listing: dict, clear: bool) -> tuple[list[float], list[float]]:
        wall, cpu = [], []
        for i in range(args.runs):
            if clear:
                _clear_caches()
            started, started_cpu = time.perf_counter(), time.thread_time()
            scorer.score([{**listing, "id": str(i)}])
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
        return wall, cpu

    page_ms, page_cpu = timed({"html": page}, clear=True)
    text_ms, text_cpu = timed({"text": text}, clear=False)
    [result] = scorer.score([{"html": page}])
    report = {
        "benchmark": "bench_page",
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "page": {
            "utf8_bytes": len(page.encode("utf-8")),
            "chars": len(page),
            "read_chars": len(text),
            "flagged": result.flagged,
            "reasons": len(result.reasons),
            "content_dropped": result.content_dropped,
        },
        "html_page": {"wall": _percentiles(page_ms), "cpu": _percentiles(page_cpu)},
        "baseline_plain_text_of_the_page": {"wall": _percentiles(text_ms), "cpu": _percentiles(text_cpu)},
    }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
