"""The walk from `lurescan score --input` to a score (issue 17): no project file is entered again
while a call from it into another project file is still running (no back-and-forth)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from lurescan.bulk.local_engine import score_file
from lurescan.model.scoring import load_scorer

REPO = Path(__file__).resolve().parents[2]
PACKAGES = tuple(str(REPO / name) + "/" for name in ("model", "bulk", "serve", "training", "lurescan"))


def _reentries(call) -> tuple[set[str], set[tuple[str, str]]]:
    """Run `call` under a profiler; (files entered, re-entries as 'a -> b -> a' chains)."""
    stack: list[str | None] = []
    entered: set[str] = set()
    reentries: set[tuple[str, str]] = set()

    def profile(frame, event, _arg):
        if event == "call":
            path = frame.f_code.co_filename
            name = next((path[len(str(REPO)) + 1 :] for p in PACKAGES if path.startswith(p)), None)
            if name is not None:
                entered.add(name)
                files = [f for f in stack if f is not None]
                if files and files[-1] != name and name in files:
                    reentries.add((" -> ".join([*files[files.index(name) :], name]), frame.f_code.co_name))
            stack.append(name)
        elif event == "return" and stack:
            stack.pop()

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return entered, reentries


def test_scoring_a_file_walks_each_file_once(tmp_path):
    scorer = load_scorer()
    rows = [
        {"title": "Customer service, Cambodia", "text": "Free flights and housing. <b>Telegram</b> @hr_kh_2024"},
        {"title": "Accountant", "text": "Monthly reports at our Jakarta office."},
    ]
    source = tmp_path / "ads.csv"
    pd.DataFrame(rows).to_csv(source, index=False)
    score_file(scorer, source, tmp_path / "warm.csv", progress=False)  # caches and lazy imports outside the trace
    entered, reentries = _reentries(lambda: score_file(scorer, source, tmp_path / "scored.csv", progress=False))
    assert {"bulk/local_engine.py", "bulk/frames.py", "model/tables.py", "model/scoring.py", "model/features.py"} <= entered
    assert not reentries, sorted(reentries)
    assert len(pd.read_csv(tmp_path / "scored.csv")) == 2
