"""The scoring budget (model/budget.py): a pattern that backtracks
exponentially is stopped at the deadline with BudgetExceeded, and nothing is
limited outside a deadline block."""

from __future__ import annotations

import shutil
import textwrap
import threading
import time

import pytest

from lurescan.model import budget
from lurescan.model.redflags.engine import RedFlagEngine
from lurescan.model.redflags.rules import default_categories_path, load_ruleset
from lurescan.model.textnorm import normalize

# No literal the prefilter could require, so it runs on every text; exponential on "a" * n + ".".
BACKTRACKING_RULES = """
language: xx
word_boundaries: true
rules:
  - id: xx.test.backtracking
    category: urgency
    severity: low
    explanation: A pattern that backtracks exponentially, for the budget test.
    patterns: ['(?:[a-z]|[a-z]{2})+[0-9]']
    examples: ["aa1"]
"""


@pytest.fixture(scope="module")
def backtracking_engine(tmp_path_factory) -> RedFlagEngine:
    root = tmp_path_factory.mktemp("budget")
    (root / "rules").mkdir()
    shutil.copy(default_categories_path(), root / "categories.yaml")
    (root / "rules" / "xx.yaml").write_text(textwrap.dedent(BACKTRACKING_RULES), encoding="utf-8")
    return RedFlagEngine(load_ruleset(root / "rules", root / "categories.yaml"))


def test_backtracking_pattern_stops_at_the_deadline(backtracking_engine):
    assert backtracking_engine.match_text("aa1")  # the rule works
    start = time.perf_counter()
    with pytest.raises(budget.BudgetExceeded, match="budget of 0.2 s"), budget.deadline(0.2):
        backtracking_engine.match_text("a" * 80 + ".")  # unbounded: longer than the universe
    assert time.perf_counter() - start < 5


def test_no_deadline_no_limit():
    assert budget.remaining() is None
    with budget.deadline(None):
        assert budget.remaining() is None
    with budget.deadline(30):
        assert 0 < budget.remaining() <= 30
    assert budget.remaining() is None  # restored


def test_deadline_belongs_to_its_thread():
    seen = []
    with budget.deadline(30):
        worker = threading.Thread(target=lambda: seen.append(budget.remaining()))
        worker.start()
        worker.join()
    assert seen == [None]


def test_html_parsing_checks_the_deadline():
    markup = "<p>x</p>" * 20_000
    with pytest.raises(budget.BudgetExceeded), budget.deadline(1e-9):
        time.sleep(0.001)
        normalize(markup)
    assert normalize(markup).text.startswith("x")
