"""Red-flag matching on long texts: patterns over the whole text, or only around their words.

    python benchmarks/bench_windows.py [--shared-data ../shared/data] [--texts 40] [--out FILE]

Builds texts of 1,500 to 42,000 characters by joining real ads of the shared
data (every board), adds the real-size job page of tests/job_page.py, and
times `RedFlagEngine.match_text` with windows off (every triggered pattern
scans the whole text) and on (model/redflags/windows.py), in the same run,
alternating, on one core. The hits are compared on every text: they must
be identical. The default engine windows from `WINDOWS_FROM_CHARS` on; this
benchmark shows where the break-even lies.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from job_page import build_page  # noqa: E402

from lurescan.model.redflags.engine import WINDOWS_FROM_CHARS, RedFlagEngine  # noqa: E402
from lurescan.model.redflags.rules import load_ruleset  # noqa: E402
from lurescan.model.textnorm import quick_normalize  # noqa: E402

LENGTHS = (1500, 3000, 6000, 12_000, 24_000)


def _ms_per_text(engine: RedFlagEngine, texts: list[str]) -> float:
    started = time.thread_time()
    for text in texts:
        engine.match_text(text)
    return (time.thread_time() - started) / len(texts) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=Path(os.environ.get("LURESCAN_SHARED_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--texts", type=int, default=40, help="Texts per length.")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    ads = []
    for path in sorted(args.shared_data.glob("*/*_text_label.csv")):
        ads += pd.read_csv(path)["text"].dropna().sample(100, random_state=1, replace=True).tolist()
    if not ads:
        raise SystemExit(f"no *_text_label.csv under {args.shared_data}")
    ads = [quick_normalize(a) for a in ads]
    rng = random.Random(0)
    whole = RedFlagEngine(load_ruleset(), windows_from_chars=None)
    windowed = RedFlagEngine(load_ruleset(), windows_from_chars=0)
    groups: dict[str, list[str]] = {}
    for n in LENGTHS:
        texts = []
        for _ in range(args.texts):
            text = ""
            while len(text) < n:
                text += "\n" + rng.choice(ads)
            texts.append(text[:n])
        groups[f"{n} chars"] = texts
    page = quick_normalize(build_page(200_000), page=True)
    groups[f"job page ({len(page)} chars read)"] = [page] * 10

    rows = {}
    for name, texts in groups.items():
        for text in texts:
            hits = [(r.id, s, e) for r, s, e in whole.match_text(text)]
            assert hits == [(r.id, s, e) for r, s, e in windowed.match_text(text)], f"windows changed the hits on a {name} text"
        # Alternate to share out whatever else the machine does.
        off = min(_ms_per_text(whole, texts), _ms_per_text(whole, texts))
        on = min(_ms_per_text(windowed, texts), _ms_per_text(windowed, texts))
        rows[name] = {"whole_text_ms": round(off, 2), "windows_ms": round(on, 2), "speed_up": round(off / on, 2)}
        print(f"{name:28s} whole text {off:7.2f} ms   windows {on:7.2f} ms   x{off / on:.2f}")
    report = {
        "benchmark": "bench_windows",
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cores": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]},
        "windows_from_chars": WINDOWS_FROM_CHARS,
        "hits_identical": True,
        "ms_per_text": rows,
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
