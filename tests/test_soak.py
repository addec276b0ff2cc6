"""The soak (`make test-slow`): LURESCAN_SOAK_MINUTES (default 10) of mixed good
and bad traffic, the pathological inputs included, with a kill -9 midway, on
SQLite and on PostgreSQL (issue 15's acceptance): no 5xx, every status the
one its request deserves, p99 of good requests under 100 ms, flat worker
memory, and every acknowledged feedback row in the database after the kill."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("LURESCAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MINUTES = float(os.environ.get("LURESCAN_SOAK_MINUTES", "10"))
P99_MS = float(os.environ.get("LURESCAN_SOAK_P99_MS", "100"))
# Growth of the workers' RSS allowed between the early and late quarter of a run.
RSS_GROWTH_MB = 50.0

pytestmark = pytest.mark.slow


def _soak_module():
    sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location("soak", REPO / "benchmarks" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_soak_with_pathological_inputs_and_a_kill(backend, tmp_path):
    out = tmp_path / "soak.json"
    args = ["--minutes", str(MINUTES), "--out", str(out), "--workers", os.environ.get("LURESCAN_SOAK_WORKERS", "2")]
    if backend == "postgresql":
        args += ["--database-url", POSTGRES_URL]
    rc = _soak_module().main(args)
    report = json.loads(out.read_text())
    assert report["server_errors_5xx"] == 0, report["examples"]
    assert not report["unexpected_statuses"], (report["unexpected_statuses"], report["examples"])
    assert report["by_kind"].get("pathological"), "no pathological input was sent"
    assert report["feedback_lost"] == 0 and report["feedback_rows_in_db"] >= report["feedback_acknowledged"]
    assert report["good_latency_ms"]["p99"] < P99_MS, report["good_latency_ms"]
    for segment in report["memory_segments"]:
        if "rss_growth_mb" in segment:
            assert segment["rss_growth_mb"] < RSS_GROWTH_MB, segment
    assert rc == 0
