"""Where in a long text a rule pattern needs to run.

A pattern with required words (prefilter.py) can only match where one of
them occurs, and a match is no wider than its `MatchReach` bound. So on a
long text (a 42,000-character job page names "usd" or "per day" a hundred
times, each a reason to run a dozen amount patterns over the whole page) the
pattern runs only over the stretches around those words, with the same
matches as a scan of the whole text:

- every match starts in some word's start range `[b - width, a]` (the word
  at `[a, b)` lies inside it), so no match is missed;
- ranges are merged while one's matches could reach the next range, so no
  match of the whole-text scan straddles where a scan starts, and inside a
  range the left-to-right scan meets the same matches in the same order;
- each scan reads on `reach` characters past its last start (lookaheads,
  `\\b`), so every attempt sees the text as the whole-text scan does, and
  lookbehinds see the real text before the range (`pos` is not a slice).

Bounds use the longest run, in this text, of the classes a repetition
consumes (`\\s*` is at most the longest whitespace run), computed with one
lookup table per class over the Basic Multilingual Plane.
"""

from __future__ import annotations

import threading

import numpy as np
import regex

from .prefilter import LinearBound, MatchReach

# Stretches closer than this are scanned as one.
MERGE_GAP = 256
_BMP = 0x10000
_ALL_BMP = "".join(map(chr, range(_BMP)))
_LUTS: dict[tuple[str, int], np.ndarray] = {}
_LUTS_LOCK = threading.Lock()


def _class_lut(source: str, flags: int) -> np.ndarray:
    """True for every BMP character the class matches (under the pattern's flags).

    Surrogates and the last BMP code point (where astral characters are
    counted) are always True: a longer run only makes a bound looser.
    """
    key = (source, flags)
    lut = _LUTS.get(key)
    if lut is None:
        lut = np.zeros(_BMP, dtype=bool)
        for m in regex.finditer(f"(?:{source})+", _ALL_BMP, flags):
            lut[m.start() : m.end()] = True
        lut[0xD800:0xE000] = True
        lut[_BMP - 1] = True
        with _LUTS_LOCK:
            _LUTS[key] = lut
    return lut


def _longest_run(mask: np.ndarray) -> int:
    if not mask.any():
        return 0
    edges = np.flatnonzero(np.diff(np.concatenate(([False], mask, [False])).view(np.int8)))
    return int((edges[1::2] - edges[0::2]).max())


class TextRuns:
    """Longest runs of character classes in one text, computed once per class."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._codes: np.ndarray | None = None
        self._runs: dict[tuple[str, int], int] = {}

    def longest(self, source: str, flags: int) -> int:
        key = (source, flags)
        if key not in self._runs:
            if self._codes is None:
                codes = np.frombuffer(self.text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
                self._codes = np.minimum(codes, _BMP - 1)
            self._runs[key] = _longest_run(_class_lut(source, flags)[self._codes])
        return self._runs[key]

    def evaluate(self, bound: LinearBound, flags: int) -> int:
        return bound.const + sum(coef * self.longest(source, flags) for source, coef in bound.runs)


def scan_ranges(words: list[tuple[int, int]], reach: MatchReach, runs: TextRuns, flags: int) -> list[tuple[int, int, int]]:
    """(first start, end of starts, end of text to read) for each stretch where a
    pattern with this reach must run, given where its words occur ([a, b) each)."""
    width = runs.evaluate(reach.width, flags)
    read = runs.evaluate(reach.reach, flags)
    length = len(runs.text)
    ranges: list[list[int]] = []  # [first start, end of starts, end of matches]
    for a, b in sorted(words):
        low, high = max(0, b - width), a + 1
        # Merging is exact whatever the gap (a scan that starts where no match of
        # the whole-text scan lies meets the same matches); a short gap costs less
        # scanned than another call.
        if ranges and low < ranges[-1][2] + MERGE_GAP:
            last = ranges[-1]
            last[0] = min(last[0], low)
            last[1] = max(last[1], high)
            last[2] = max(last[2], a + width)
        else:
            ranges.append([low, high, a + width])
    return [(low, high, min(length, high - 1 + read + 1)) for low, high, _ in ranges]
