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
from functools import lru_cache
from importlib import resources

import regex

_NOT_FOLDED = regex.compile(r"[\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}]")
_LATIN_LETTER = regex.compile(r"\p{Script=Latin}")
_WORD_CHAR = regex.compile(r"[\p{L}\p{M}]")


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
def _foldable() -> regex.Pattern:
    return regex.compile("[" + "".join(regex.escape(c) for c in sorted(fold_table())) + "]")


def _word_bounds(text: str, at: int) -> tuple[int, int]:
    start, end = at, at + 1
    while start > 0 and _WORD_CHAR.match(text, start - 1):
        start -= 1
    while end < len(text) and _WORD_CHAR.match(text, end):
        end += 1
    return start, end


def confusable_edits(text: str) -> list[tuple[int, int, str]]:
    """(start, end, Latin letter) for each look-alike inside a word that also holds a Latin letter."""
    found = _foldable().search(text)
    if found is None:
        return []
    table = fold_table()
    edits: list[tuple[int, int, str]] = []
    word_end = -1
    while found is not None:
        at = found.start()
        if at >= word_end:
            word_start, word_end = _word_bounds(text, at)
            word = text[word_start:word_end]
            if _LATIN_LETTER.search(word):
                edits += [(word_start + i, word_start + i + 1, table[c]) for i, c in enumerate(word) if c in table]
        found = _foldable().search(text, word_end if at < word_end else at + 1)
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
