"""Look-alike letters from other scripts folded to the Latin letter they imitate.

"Tеlеgrаm" with Cyrillic е and а reads as "Telegram" to a person and to no
rule. The look-alikes come from Unicode's confusables data (UTS #39, as
shipped by the `confusable-homoglyphs` package): every letter of a script
other than Latin whose confusable is one ASCII letter. They are folded only
inside words that also hold a Latin letter, the mark of a disguised Latin
word: a Russian or Greek word stays as written. Each letter folds to one
letter, so offsets are unchanged.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

import regex

_NOT_FOLDED = regex.compile(r"[\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}]")
_LATIN_LETTER = regex.compile(r"\p{Script=Latin}")


@lru_cache(maxsize=1)
def fold_table() -> dict[str, str]:
    """Non-Latin letter -> the ASCII letter it looks like (same case where the data offers one)."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    table = {}
    for char, glyphs in data.items():
        if len(char) != 1 or not char.isalpha() or _NOT_FOLDED.match(char):
            continue
        ascii_letters = sorted({g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalpha()})
        if ascii_letters:
            same_case = [a for a in ascii_letters if a.islower() == char.islower()]
            table[char] = (same_case or ascii_letters)[0]
    return table


@lru_cache(maxsize=1)
def _candidates() -> re.Pattern:
    """The code-point ranges holding every look-alike (a class of a few ranges scans fast; a class
    of hundreds of single characters does not). A hit is a candidate, checked against the table."""
    ranges: list[list[int]] = []
    for code in sorted(ord(c) for c in fold_table()):
        if ranges and code - ranges[-1][1] <= 64:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


_WORD_AFTER = regex.compile(r"[\p{L}\p{M}]*")
_WORD_BEFORE = regex.compile(r"[\p{L}\p{M}]*", flags=regex.REVERSE)


def _word_bounds(text: str, at: int) -> tuple[int, int]:
    """The run of letters and marks around text[at]."""
    return _WORD_BEFORE.match(text, 0, at).start(), _WORD_AFTER.match(text, at).end()


def confusable_edits(text: str) -> list[tuple[int, int, str]]:
    """(start, end, Latin letter) for each look-alike inside a word that also holds a Latin letter."""
    candidates = _candidates()
    found = candidates.search(text)
    if found is None:
        return []
    table = fold_table()
    edits: list[tuple[int, int, str]] = []
    while found is not None:
        at = found.start()
        if text[at] not in table:
            found = candidates.search(text, at + 1)
            continue
        word_start, word_end = _word_bounds(text, at)
        word = text[word_start:word_end]
        if _LATIN_LETTER.search(word):
            edits += [(word_start + i, word_start + i + 1, table[c]) for i, c in enumerate(word) if c in table]
        found = candidates.search(text, max(word_end, at + 1))
    return edits


def fold_confusables(text: str) -> str:
    """`text` with disguised Latin words written in Latin letters (same length)."""
    edits = confusable_edits(text)
    if not edits:
        return text
    chars = list(text)
    for start, _end, letter in edits:
        chars[start] = letter
    return "".join(chars)
