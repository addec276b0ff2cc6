"""Literal prefilters for rule patterns.

The `regex` module tries a pattern at every position of the text, and a
pattern that starts with an alternation ("(?:salary|pay|income)\\s*...") costs
tens of microseconds on a long ad even when nothing matches. Most patterns,
though, cannot match without one of a few literal words. This module finds
such a set of words from the pattern's syntax tree, so the engine can look
for all of them in one Aho-Corasick pass and run only the patterns whose
words occur. A pattern with no such set (or one the parser cannot read)
simply always runs: the prefilter only ever skips work, never a match.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

try:  # Python 3.11+
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants
    import sre_parse

# Literal sets with a word shorter than this are not worth a lookup, unless
# the word is a rare symbol (see _rare_symbol).
MIN_LITERAL_LENGTH = 2
# Alternations with more branches than this are left to the regex.
MAX_LITERALS = 64

_LITERAL = sre_constants.LITERAL
_BRANCH = sre_constants.BRANCH
_SUBPATTERN = sre_constants.SUBPATTERN
_MAX_REPEAT = sre_constants.MAX_REPEAT
_MIN_REPEAT = sre_constants.MIN_REPEAT
_POSSESSIVE_REPEAT = getattr(sre_constants, "POSSESSIVE_REPEAT", None)
_ATOMIC_GROUP = getattr(sre_constants, "ATOMIC_GROUP", None)
# Zero-width items a literal run may step over without breaking it.
_ZERO_WIDTH = {sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT}


def _sequence_literals(items) -> frozenset[str] | None:
    """Words one of which any match of this sequence contains: either a run of
    consecutive literal characters or the literal set of one mandatory item,
    whichever is most selective (longest shortest word)."""
    best: frozenset[str] | None = None

    def rank(words: frozenset[str]) -> tuple[bool, int]:
        return all(_worth_a_lookup(w) for w in words), min(map(len, words))

    def consider(candidate: frozenset[str] | None) -> None:
        nonlocal best
        if candidate and len(candidate) <= MAX_LITERALS and (best is None or rank(candidate) > rank(best)):
            best = candidate

    run: list[str] = []
    for op, arg in list(items) + [(None, None)]:
        if op is _LITERAL:
            run.append(chr(arg))
            continue
        if op in _ZERO_WIDTH:
            continue
        if run:
            consider(frozenset({"".join(run)}))
            run = []
        if op is None:
            break
        consider(_item_literals(op, arg))
    return best


def _item_literals(op, arg) -> frozenset[str] | None:
    if op is _BRANCH:
        words: set[str] = set()
        for branch in arg[1]:
            found = _sequence_literals(branch)
            if not found:
                return None
            words |= found
        return frozenset(words)
    if op is _SUBPATTERN:
        return _sequence_literals(arg[-1])
    if op is _ATOMIC_GROUP:
        return _sequence_literals(arg)
    if op in (_MAX_REPEAT, _MIN_REPEAT, _POSSESSIVE_REPEAT) and op is not None:
        low, _high, item = arg
        return _sequence_literals(item) if low >= 1 else None
    return None


def required_literals(pattern: str) -> frozenset[str] | None:
    """Lower-cased words one of which every match of `pattern` contains, or
    None when no useful set can be shown."""
    try:
        parsed = sre_parse.parse(pattern)
    except (sre_constants.error, OverflowError, RecursionError, ValueError):
        # regex-only syntax (\p{Han}, variable lookbehind, (?V1)...): no prefilter
        return None
    words = _sequence_literals(parsed)
    if not words:
        return None
    words = frozenset(w.lower() for w in words)
    return words if all(_worth_a_lookup(w) for w in words) else None


def _worth_a_lookup(word: str) -> bool:
    """Long enough, or a single character rare enough in ordinary text ('@',
    '/', '₱', '฿', 'ユ'), unlike a letter, digit, space or common punctuation."""
    if len(word) >= MIN_LITERAL_LENGTH:
        return True
    return not word.isspace() and not (word.isascii() and (word.isalnum() or word in " .,:;-()'\"!?"))


def _scan(src: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, group depth after it) for each character of `src` from `start`
    that is neither escaped nor inside a character class."""
    depth, i = 0, start
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _class_end(src, i) + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        yield i, ch, depth
        i += 1


def _group_end(src: str, start: int) -> int:
    """Index of the ')' closing the group that opens at src[start] == '('."""
    return next((i for i, ch, depth in _scan(src, start) if ch == ")" and depth == 0), -1)


def _class_end(src: str, start: int) -> int:
    """Index of the ']' closing the character class that opens at src[start]."""
    i = start + 1
    if i < len(src) and src[i] == "^":
        i += 1
    if i < len(src) and src[i] == "]":
        i += 1
    while i < len(src):
        if src[i] == "\\":
            i += 2
            continue
        if src[i] == "]":
            return i
        i += 1
    return len(src)


def _split_top_level(src: str) -> list[str]:
    parts, last = [], 0
    for i, ch, depth in _scan(src):
        if ch == "|" and depth == 0:
            parts.append(src[last:i])
            last = i + 1
    parts.append(src[last:])
    return parts


def split_leading_alternation(pattern: str) -> list[str] | None:
    """'(?<!x)(?:salary|pay)\\s*\\d+' -> ['(?<!x)(?:salary)\\s*\\d+', '(?<!x)(?:pay)\\s*\\d+'].

    The regex engine scans fast for a pattern that starts with a literal word
    but tries a leading alternation at every position; split, each branch gets
    its own prefilter words and its own fast scan. Together the pieces match
    what the pattern matches (an alternation's branches at one position may
    now all match, which only adds overlapping hits of the same rule).
    None when the pattern does not start with a plain alternation group.
    """
    i = 0
    while True:  # zero-width items before the group stay in front of every piece
        if pattern.startswith("\\b", i):
            i += 2
        elif pattern.startswith(("(?<=", "(?<!", "(?=", "(?!"), i):
            end = _group_end(pattern, i)
            if end < 0:
                return None
            i = end + 1
        else:
            break
    if not pattern.startswith("(?:", i):
        return None
    end = _group_end(pattern, i)
    if end < 0 or pattern[end + 1 : end + 2] in ("?", "*", "+", "{"):
        return None
    branches = _split_top_level(pattern[i + 3 : end])
    if len(branches) < 2 or any(not b for b in branches):
        return None
    return [f"{pattern[:i]}(?:{branch}){pattern[end + 1:]}" for branch in branches]


# --- How far a match can reach -------------------------------------------------
#
# A pattern with required words needs only run near where they occur, if its
# matches have a bounded width. Most rule patterns have `\s*` or `\d+` in them,
# which no syntax bounds, but a text does: `\s*` consumes at most the text's
# longest run of whitespace. So a width is a linear bound
# `const + sum(coef * longest run of class)`, evaluated per text (engine.py).


@dataclass(frozen=True)
class LinearBound:
    """`const` plus, for each character class (as regex source), `coef` times the
    longest run of that class in the text."""

    const: int = 0
    runs: tuple[tuple[str, int], ...] = ()

    def __add__(self, other: LinearBound) -> LinearBound:
        runs = dict(self.runs)
        for cls, coef in other.runs:
            runs[cls] = runs.get(cls, 0) + coef
        return LinearBound(self.const + other.const, tuple(sorted(runs.items())))

    def times(self, k: int) -> LinearBound:
        return LinearBound(self.const * k, tuple((cls, coef * k) for cls, coef in self.runs))

    def at_least(self, other: LinearBound) -> LinearBound:
        """A bound of both (every run length is >= 0, so the larger coefficients bound the max)."""
        runs = dict(self.runs)
        for cls, coef in other.runs:
            runs[cls] = max(runs.get(cls, 0), coef)
        return LinearBound(max(self.const, other.const), tuple(sorted(runs.items())))


@dataclass(frozen=True)
class MatchReach:
    """`width`: the longest match; `reach`: how many characters from its start a
    match attempt may read (the width, lookaheads and `\\b` after it)."""

    width: LinearBound
    reach: LinearBound


class _Unbounded(Exception):
    """A construct whose reach this analysis does not bound (back-references, ...)."""


_CATEGORY_SOURCE = {
    sre_constants.CATEGORY_DIGIT: r"\d",
    sre_constants.CATEGORY_NOT_DIGIT: r"\D",
    sre_constants.CATEGORY_SPACE: r"\s",
    sre_constants.CATEGORY_NOT_SPACE: r"\S",
    sre_constants.CATEGORY_WORD: r"\w",
    sre_constants.CATEGORY_NOT_WORD: r"\W",
}
_ONE = LinearBound(1)
_ZERO = LinearBound(0)


def _char(code: int) -> str:
    return f"\\U{code:08x}"


def _class_source(op, arg) -> str | None:
    """Regex source for one single-character item, or None if `op` is not one."""
    if op is _LITERAL:
        return _char(arg)
    if op is sre_constants.NOT_LITERAL:
        return f"[^{_char(arg)}]"
    if op is sre_constants.ANY:
        return "(?s:.)"
    if op is sre_constants.IN:
        parts: list[str] = []
        for item_op, item_arg in arg:
            if item_op is sre_constants.NEGATE:
                parts.insert(0, "^")
            elif item_op is _LITERAL:
                parts.append(_char(item_arg))
            elif item_op is sre_constants.RANGE:
                parts.append(f"{_char(item_arg[0])}-{_char(item_arg[1])}")
            elif item_op is sre_constants.CATEGORY and item_arg in _CATEGORY_SOURCE:
                parts.append(_CATEGORY_SOURCE[item_arg])
            else:
                raise _Unbounded(item_op)
        return "[" + "".join(parts) + "]"
    return None


def _consumed_classes(items, out: list[str]) -> None:
    """Every single-character item a repeated sub-pattern may consume."""
    for op, arg in items:
        source = _class_source(op, arg)
        if source is not None:
            out.append(source)
        elif op is _SUBPATTERN:
            _consumed_classes(arg[-1], out)
        elif op is _ATOMIC_GROUP:
            _consumed_classes(arg, out)
        elif op is _BRANCH:
            for branch in arg[1]:
                _consumed_classes(branch, out)
        elif op in (_MAX_REPEAT, _MIN_REPEAT, _POSSESSIVE_REPEAT) and op is not None:
            _consumed_classes(arg[2], out)
        else:
            raise _Unbounded(op)  # a lookaround or anchor inside a repeat: not bounded here


def _sequence_reach(items) -> MatchReach:
    width, reach = _ZERO, _ZERO
    for op, arg in items:
        item = _item_reach(op, arg)
        reach = reach.at_least(width + item.reach)
        width = width + item.width
    return MatchReach(width, reach.at_least(width))


def _item_reach(op, arg) -> MatchReach:
    if _class_source(op, arg) is not None:
        return MatchReach(_ONE, _ONE)
    if op is sre_constants.AT:
        return MatchReach(_ZERO, _ONE)  # \b and $ look at the next character
    if op is _SUBPATTERN:
        return _sequence_reach(arg[-1])
    if op is _ATOMIC_GROUP:
        return _sequence_reach(arg)
    if op is _BRANCH:
        found = [_sequence_reach(branch) for branch in arg[1]]
        width, reach = _ZERO, _ZERO
        for branch in found:
            width, reach = width.at_least(branch.width), reach.at_least(branch.reach)
        return MatchReach(width, reach)
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        direction, sub = arg
        # A lookbehind reads only what comes before the current position.
        return MatchReach(_ZERO, _sequence_reach(sub).reach if direction == 1 else _ZERO)
    if op in (_MAX_REPEAT, _MIN_REPEAT, _POSSESSIVE_REPEAT) and op is not None:
        _low, high, sub = arg
        if high != sre_constants.MAXREPEAT:
            if high == 0:
                return MatchReach(_ZERO, _ZERO)
            one = _sequence_reach(sub)
            return MatchReach(one.width.times(high), one.width.times(high - 1) + one.reach)
        classes: list[str] = []
        _consumed_classes(sub, classes)
        # A repetition consumes one unbroken run of its sub-pattern's characters.
        run = LinearBound(0, (("(?:" + "|".join(sorted(set(classes))) + ")", 1),))
        return MatchReach(run, run)
    raise _Unbounded(op)


def match_reach(pattern: str) -> MatchReach | None:
    """How far a match of `pattern` reaches, as bounds to evaluate on a text, or None
    when the syntax is beyond this analysis (or the parser's)."""
    try:
        return _sequence_reach(sre_parse.parse(pattern))
    except (_Unbounded, sre_constants.error, OverflowError, RecursionError, ValueError):
        return None
