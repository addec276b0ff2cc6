"""Patterns run only around their required words on long texts (windows.py):
the same hits as one scan of the whole text, on every kind of long text."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import regex
import yaml
from test_redflag_engine import _test_texts

from lurescan.model.redflags.engine import RedFlagEngine, default_engine, fold_diacritics
from lurescan.model.redflags.prefilter import LinearBound, MatchReach, match_reach
from lurescan.model.redflags.rules import RULE_FLAGS, load_ruleset
from lurescan.model.redflags.windows import TextRuns, scan_ranges
from lurescan.model.textnorm import quick_normalize

TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TESTS))
from job_page import build_page  # noqa: E402


def _hits(engine: RedFlagEngine, text: str) -> list[tuple[str, int, int]]:
    return [(rule.id, start, end) for rule, start, end in engine.match_text(text)]


@pytest.fixture(scope="module")
def long_texts() -> list[str]:
    """Long texts of every kind: the test texts joined at random, a real-size job page, and
    the pathological inputs (dense with required words: '$1', '@hr', '1,')."""
    texts = _test_texts()
    rng = random.Random(7)
    joined = ["\n".join(rng.sample(texts, min(len(texts), 60))) for _ in range(25)]
    page = [quick_normalize(build_page(200_000), page=True)]
    specs = yaml.safe_load((TESTS / "fixtures" / "pathological.yaml").read_text("utf-8"))["inputs"]
    odd = [((s["unit"] * (6000 // len(s["unit"]) + 1))[:6000] + s.get("tail", "")) for s in specs]
    return joined + page + odd


def test_windowed_scan_finds_exactly_what_a_whole_text_scan_finds(long_texts: list[str]) -> None:
    whole = RedFlagEngine(load_ruleset(), windows_from_chars=None)
    windowed = RedFlagEngine(load_ruleset(), windows_from_chars=0)
    for text in _test_texts() + long_texts:
        assert _hits(windowed, text) == _hits(whole, text), text[:80]


def test_the_default_engine_windows_only_long_texts() -> None:
    assert default_engine().windows_from_chars and default_engine().windows_from_chars > 2000
    assert RedFlagEngine(load_ruleset(), prefilter=False).windows_from_chars is None


def test_no_match_is_wider_than_its_bound(long_texts: list[str]) -> None:
    """The reach bound holds for every match of every rule pattern on the long texts."""
    engine = default_engine()
    checked = 0
    for text in long_texts[:8] + long_texts[-8:]:
        runs = {False: TextRuns(text), True: TextRuns(fold_diacritics(text))}
        for k, (i, pattern) in enumerate(engine._patterns):
            reach = engine._reach[k]
            if reach is None:
                continue
            folds = engine.rules[i].fold_diacritics
            width = runs[folds].evaluate(reach.width, pattern.flags)
            for m in pattern.finditer(runs[folds].text):
                assert m.end() - m.start() <= width, (engine.rules[i].id, m.group())
                checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    "pattern, text, width, reach",
    [
        (r"\d{1,3}\s*usd\b", "5   usd", 6 + 3, 7 + 3),  # `\s*` is at most the longest whitespace run (3)
        (r"(?<![\d.,])[1-9]\d{2}[.,]\d{3}(?=x{3})", "", 7, 10),  # lookbehind reads back, lookahead on
        (r"(?:/\d{1,4})*x", "a/12/345 b", 1 + 7, 1 + 7),  # a repeated group: one run of its characters
        (r"[\w ]{2,30},", "", 31, 31),
    ],
)
def test_reach_bounds(pattern: str, text: str, width: int, reach: int) -> None:
    bound = match_reach(pattern)
    assert bound is not None
    runs = TextRuns(text)
    assert (runs.evaluate(bound.width, RULE_FLAGS), runs.evaluate(bound.reach, RULE_FLAGS)) == (width, reach)


def test_unbounded_constructs_have_no_reach() -> None:
    assert match_reach(r"(a)\1") is None  # a back-reference
    assert match_reach(r"(?:(?=a)b)+") is None  # a lookaround inside a repeat
    assert match_reach(r"\p{Han}+") is None  # beyond the standard parser


def test_scan_ranges_merge_where_matches_could_reach() -> None:
    reach = MatchReach(LinearBound(10), LinearBound(12))
    runs = TextRuns("x" * 10_000)
    # Words at 100 and 105 overlap; 5,000 is far: two stretches, each read 12 on past its last start.
    assert scan_ranges([(5000, 5003), (100, 103), (105, 108)], reach, runs, RULE_FLAGS) == [
        (93, 106, 118),
        (4993, 5001, 5013),
    ]
    # A word at the very start and one at the end of the text: clipped to the text.
    assert scan_ranges([(0, 3), (9997, 10_000)], reach, runs, RULE_FLAGS) == [(0, 1, 13), (9990, 9998, 10_000)]


def test_class_runs_follow_the_patterns_flags() -> None:
    runs = TextRuns("AAAA aa")
    assert runs.longest("[a]", RULE_FLAGS) == 4  # IGNORECASE: 'A' is in [a]
    assert runs.longest("[a]", regex.V0) == 2
    assert runs.longest(r"\s", RULE_FLAGS) == 1
