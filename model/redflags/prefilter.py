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
