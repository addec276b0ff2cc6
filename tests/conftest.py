"""Shared fixtures: where the project's corpus and the shared data live,
and a small bundle trained once per test session."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO_ROOT / "data" / "corpus"


def shared_data_dir() -> Path:
    return Path(os.environ.get("LURESCAN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def corpus_files() -> list[Path]:
    files = sorted(CORPUS_DIR.glob("*.jsonl"))
    assert files, f"no corpus files in {CORPUS_DIR}"
    return files


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (set LURESCAN_SHARED_DATA)")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def corpus_rows(corpus_files) -> list[dict]:
    return [row for path in corpus_files for row in read_jsonl(path)]


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory, corpus_files) -> Path:
    """A baseline bundle trained on the project's corpus (seconds, not minutes)."""
    from lurescan.training.arguments import BaselineArgs, DataArgs, TrainArgs
    from lurescan.training.train import main

    out = tmp_path_factory.mktemp("bundles") / "corpus-baseline"
    main(
        TrainArgs(
            out=str(out),
            data=DataArgs(data=[str(p) for p in corpus_files]),
            # heldout=False: one fit, not one per held-out set (the corpus has no board to leave out anyway).
            model=BaselineArgs(n_char_features=2**16, n_word_features=2**15, heldout=False),
            model_version="test-corpus-baseline",
            progress=False,
        )
    )
    return out


def _no_skips() -> bool:
    """CI sets LURESCAN_NO_SKIPS=1: a missing service, browser or data set fails
    the run there instead of quietly skipping the tests that need it."""
    return os.environ.get("LURESCAN_NO_SKIPS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _no_skips() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but LURESCAN_NO_SKIPS=1: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if _no_skips() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"module skipped, but LURESCAN_NO_SKIPS=1: {report.longrepr}"
