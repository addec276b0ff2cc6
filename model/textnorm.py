"""Text normalisation that remembers where every character came from.

A browser extension highlights red flags in the text exactly as it was sent,
so every normalisation step (HTML to visible text, invisible characters out,
EMSCAD placeholders, Unicode NFKC, look-alike letters folded, whitespace)
records, for each output character, the span of input characters
it came from. Spans found in the clean text map back to the caller's text
with `NormalizedText.to_raw`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import regex

from .confusables import confusable_edits, fold_confusables
from .visible_text import TextCache, may_hold_text_like_tags, read_page, segments_to_map

# A step's result: the new text, and for each of its characters the
# half-open span [starts[j], ends[j]) of the step's input it came from.
_Step = tuple[str, np.ndarray, np.ndarray]

_HTML_HINT = re.compile(r"<[A-Za-z!/?]|&(?:#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]{1,31});")
_EMSCAD_PLACEHOLDER = re.compile(r"#(URL|EMAIL|PHONE)_[0-9a-fA-F]{6,}#")
# Whitespace that collapsing would change: runs of two or more, or any
# single whitespace character other than a plain space or a newline.
_WHITESPACE_TO_FIX = re.compile(r"\s{2,}|[^\S \n]")
# Grapheme clusters that NFKC may change: those that start with a character
# outside printable ASCII, or with an ASCII letter carrying combining marks
# ("e" + U+0301). Pure-ASCII runs are NFKC-stable and left alone.
# Characters NFKC may change (quick check "No" or "Maybe"); the rest of the
# text is left alone, so CJK or Thai text costs one C-level scan, not one
# Python call per character.
_NFKC_UNSTABLE = regex.compile(r"[\p{NFKC_QC=N}\p{NFKC_QC=M}]")
# Characters that belong to the cluster of the character before them.
_CLUSTER_CONTINUES = regex.compile(
    r"[\p{M}\p{Grapheme_Cluster_Break=Extend}\p{Grapheme_Cluster_Break=SpacingMark}"
    r"\p{Hangul_Syllable_Type=V}\p{Hangul_Syllable_Type=T}]"
)

# Characters a reader never sees (soft hyphen, zero-width characters, bidi
# marks, variation selectors...): Unicode's Default_Ignorable_Code_Point.
# Inserted inside a word ("Tele\u200bgram") they hide it from every rule.
_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}+")


@dataclass(frozen=True)
class NormalizedText:
    """Clean text plus the map from its characters back to the raw input."""

    raw: str
    text: str
    starts: np.ndarray  # starts[i]: raw index where text[i] begins
    ends: np.ndarray  # ends[i]: raw index (exclusive) where text[i] ends

    def to_raw(self, start: int, end: int) -> tuple[int, int]:
        """Map the clean span [start, end) to the raw span it came from."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) outside normalised text of length {len(self.text)}")
        return int(self.starts[start]), int(self.ends[end - 1])


def _identity(n: int) -> tuple[np.ndarray, np.ndarray]:
    starts = np.arange(n, dtype=np.int64)
    return starts, starts + 1


def looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT.search(text))


def _strip_html(text: str, page: bool = True) -> _Step | None:
    """The page's read text (visible text, line breaks, link targets): see visible_text.py.

    `page=False`: a text field, where an address in angle brackets ("HR <hiring@qq.com>") is text."""
    if not looks_like_html(text):
        return None
    read = read_page(text, page=page)
    return read.read, read.read_starts, read.read_ends


_segments_to_map = segments_to_map


def _splice(text: str, edits: Iterable[tuple[int, int, str]]) -> _Step | None:
    """Apply ordered, non-overlapping (start, end, replacement) edits; replaced
    text maps to the span it replaced, untouched text maps 1:1."""
    out: list[str] = []
    segments: list[tuple[int, int, int, bool]] = []
    pos = 0
    for start, end, rep in edits:
        if start > pos:
            out.append(text[pos:start])
            segments.append((start - pos, pos, start, True))
        if rep:
            out.append(rep)
            segments.append((len(rep), start, end, rep == text[start:end]))
        pos = end
    if not segments and pos == 0:
        return None
    if pos < len(text):
        out.append(text[pos:])
        segments.append((len(text) - pos, pos, len(text), True))
    if not segments:
        return "", np.zeros(0, np.int64), np.zeros(0, np.int64)
    return ("".join(out), *_segments_to_map(segments))


def _replace(text: str, pattern: re.Pattern, replacement) -> _Step | None:
    """Replace every match by `replacement(match)`; replaced text maps to the match span."""
    return _splice(text, ((m.start(), m.end(), replacement(m)) for m in pattern.finditer(text)))


def _nfkc_edits(text: str) -> list[tuple[int, int, str]]:
    """(start, end, NFKC) for each cluster that NFKC may change: the unstable
    character, the base before it when it is a mark, and the marks after it."""
    units: list[list[int]] = []
    for m in _NFKC_UNSTABLE.finditer(text):
        at = m.start()
        if units and at < units[-1][1]:
            continue
        start, end = at, at + 1
        if _CLUSTER_CONTINUES.match(text, at):
            while start > 0 and _CLUSTER_CONTINUES.match(text, start - 1):
                start -= 1
            start = max(0, start - 1)
        while end < len(text) and _CLUSTER_CONTINUES.match(text, end):
            end += 1
        if units and start <= units[-1][1]:
            units[-1][1] = end
        else:
            units.append([start, end])
    return [(start, end, unicodedata.normalize("NFKC", text[start:end])) for start, end in units]


def _nfkc(text: str) -> _Step | None:
    """NFKC, cluster by cluster, so each output character maps to its cluster."""
    if unicodedata.is_normalized("NFKC", text):
        return None
    return _splice(text, _nfkc_edits(text))


def _placeholder(m: re.Match) -> str:
    return f" [{m.group(1)}] "


def _collapse_whitespace(text: str) -> _Step | None:
    step = _replace(text, _WHITESPACE_TO_FIX, lambda m: "\n" if "\n" in m.group() else " ")
    if step is None:
        if text == text.strip():
            return None
        step = (text, *_identity(len(text)))
    new, starts, ends = step
    # Trim the ends, keeping the map aligned.
    left = len(new) - len(new.lstrip())
    right = len(new.rstrip())
    if (left, right) == (0, len(new)) and new == text:
        return None
    return new[left:right], starts[left:right], ends[left:right]


def _drop_ignorables(text: str) -> _Step | None:
    if not _IGNORABLE.search(text):
        return None
    return _replace(text, _IGNORABLE, lambda m: "")


def _fold_confusables(text: str) -> _Step | None:
    edits = confusable_edits(text)
    return _splice(text, edits) if edits else None


def normalize(raw: str, *, page: bool = False) -> NormalizedText:
    """HTML to visible text, invisible characters out, EMSCAD placeholders, NFKC, look-alike
    letters folded, whitespace; offsets kept throughout.

    `page`: `raw` is a page (the `html` field), read as a browser shows it. Any other field
    may hold markup too, but there "<...>" around an email or a link ("HR <hiring@qq.com>")
    is text, not an unknown tag (visible_text.read_page).

    HTML is normalised once and kept for a while: scoring, reasons and visible
    offsets all ask for the same page.
    """
    if looks_like_html(raw):
        if page or not may_hold_text_like_tags(raw):
            return _HTML_NORMALIZED.get(raw)
        return _FIELD_HTML_NORMALIZED.get(raw)
    return _normalize(raw)


def _normalize(raw: str, page: bool = True) -> NormalizedText:
    text = raw
    starts, ends = _identity(len(raw))
    steps = (
        lambda t: _strip_html(t, page),
        _drop_ignorables,
        lambda t: _replace(t, _EMSCAD_PLACEHOLDER, _placeholder),
        _nfkc,
        _fold_confusables,
        _collapse_whitespace,
    )
    for step in steps:
        result = step(text)
        if result is None:
            continue
        text, s, e = result
        if len(text):
            starts, ends = starts[s], ends[e - 1]
        else:
            starts, ends = starts[:0], ends[:0]
    return NormalizedText(raw=raw, text=text, starts=starts, ends=ends)


_HTML_NORMALIZED = TextCache(_normalize, max_chars=2_000_000)
# Fields (not pages) whose markup may hold an address in angle brackets.
_FIELD_HTML_NORMALIZED = TextCache(lambda raw: _normalize(raw, page=False), max_chars=2_000_000)


def quick_normalize(raw: str, *, page: bool = False) -> str:
    """The same clean text as `normalize(raw, page=page).text`, without the offset map.

    Used on the hot path of scoring, where only the text is needed.
    """
    text = raw
    if looks_like_html(text):
        return normalize(raw, page=page).text
    text = _IGNORABLE.sub("", text)
    text = _EMSCAD_PLACEHOLDER.sub(_placeholder, text)
    if not unicodedata.is_normalized("NFKC", text):
        pieces, pos = [], 0
        for start, end, rep in _nfkc_edits(text):
            pieces += [text[pos:start], rep]
            pos = end
        text = "".join(pieces) + text[pos:]
    text = fold_confusables(text)
    return _WHITESPACE_TO_FIX.sub(lambda m: "\n" if "\n" in m.group() else " ", text).strip()
