"""Text normalisation that remembers where every character came from.

A browser extension highlights red flags in the text exactly as it was sent,
so every normalisation step (HTML to text, EMSCAD placeholders, Unicode NFKC,
whitespace) records, for each output character, the span of input characters
it came from. Spans found in the clean text map back to the caller's text
with `NormalizedText.to_raw`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

import numpy as np
import regex

from . import budget
from .htmlguard import defuse as defuse_unterminated

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

_BLOCK_TAGS = frozenset(
    ["address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"]
)
_SKIP_CONTENT_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})


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


class _OffsetHTMLParser(HTMLParser):
    """Collects text pieces with the raw span of the markup they came from."""

    def __init__(self, raw: str) -> None:
        super().__init__(convert_charrefs=False)
        self._raw = raw
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", raw)]
        self._skip_depth = 0
        # (raw_start, raw_end, text, verbatim): verbatim pieces map 1:1 to raw
        # characters; the others map every character to the whole raw span.
        self.pieces: list[tuple[int, int, str, bool]] = []

    def _offset(self) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def _block_break(self, raw_end: int) -> None:
        """A block tag reads as a newline that stands for the whole tag."""
        start = self._offset()
        self.pieces.append((start, max(raw_end, start + 1), "\n", False))

    def _tag_end(self) -> int:
        close = self._raw.find(">", self._offset())
        return close + 1 if close != -1 else len(self._raw)

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_CONTENT_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            # get_starttag_text() is exact even when an attribute holds a '>'.
            self._block_break(self._offset() + len(self.get_starttag_text() or "<"))

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self._block_break(self._offset() + len(self.get_starttag_text() or "<"))

    def handle_endtag(self, tag):
        if tag in _SKIP_CONTENT_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self._block_break(self._tag_end())

    def handle_data(self, data):
        budget.check()
        if not self._skip_depth:
            start = self._offset()
            verbatim = self._raw.startswith(data, start)
            self.pieces.append((start, start + len(data) if verbatim else self._tag_end(), data, verbatim))

    def _reference(self, token: str) -> None:
        """'&amp;', '&amp', '&#39;', '&bogus': the token as written, ';' only if present."""
        if self._skip_depth:
            return
        start = self._offset()
        if self._raw.startswith(";", start + len(token)):
            token += ";"
        text = html.unescape(token)
        self.pieces.append((start, start + len(token), text, text == token))

    def handle_entityref(self, name):
        self._reference(f"&{name}")

    def handle_charref(self, name):
        self._reference(f"&#{name}")

    def close(self):
        # CPython's close() drops the '&' of a trailing "&name" that has no
        # terminator ("<p>&e" read as "e"); hand the rest over as plain text.
        if self.rawdata.startswith("&") and "<" not in self.rawdata and not getattr(self, "cdata_elem", None):
            self.handle_data(self.rawdata)
            self.rawdata = ""
        super().close()


def looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT.search(text))


def _strip_html(text: str) -> _Step | None:
    if not looks_like_html(text):
        return None
    # Openers that never close read as text at once, not after a rescan each (htmlguard.py).
    defused = defuse_unterminated(text)
    parser = _OffsetHTMLParser(defused.text)
    parser.feed(defused.text)
    parser.close()
    pieces_out, starts, ends = [], [], []
    for raw_start, raw_end, piece, verbatim in parser.pieces:
        if not piece:
            continue
        piece = defused.restore(piece)
        if verbatim:
            s = np.arange(raw_start, raw_start + len(piece), dtype=np.int64)
            e = s + 1
        else:
            s = np.full(len(piece), raw_start, dtype=np.int64)
            e = np.full(len(piece), raw_end, dtype=np.int64)
        pieces_out.append(piece)
        starts.append(s)
        ends.append(e)
    if not pieces_out:
        return "", np.zeros(0, np.int64), np.zeros(0, np.int64)
    return "".join(pieces_out), np.concatenate(starts), np.concatenate(ends)


def _segments_to_map(segments: list[tuple[int, int, int, bool]]) -> tuple[np.ndarray, np.ndarray]:
    """Build the character map from (out_length, src_start, src_end, copied) segments.

    A copied segment maps character k to [src_start + k, src_start + k + 1);
    a replaced one maps every character to the whole [src_start, src_end).
    """
    seg = np.asarray(segments, dtype=np.int64).reshape(-1, 4)
    lengths, src_start, src_end, copied = seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3]
    total = int(lengths.sum())
    out_offsets = np.cumsum(lengths) - lengths
    within = np.arange(total, dtype=np.int64) - np.repeat(out_offsets, lengths)
    step = within * np.repeat(copied, lengths)
    starts = np.repeat(src_start, lengths) + step
    ends = np.repeat(np.where(copied == 1, src_start + 1, src_end), lengths) + step
    return starts, ends


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


def normalize(raw: str) -> NormalizedText:
    """HTML to text, EMSCAD placeholders, NFKC, whitespace; offsets kept throughout."""
    text = raw
    starts, ends = _identity(len(raw))
    for step in (_strip_html, lambda t: _replace(t, _EMSCAD_PLACEHOLDER, _placeholder), _nfkc, _collapse_whitespace):
        result = step(text)
        if result is None:
            continue
        text, s, e = result
        if len(text):
            starts, ends = starts[s], ends[e - 1]
        else:
            starts, ends = starts[:0], ends[:0]
    return NormalizedText(raw=raw, text=text, starts=starts, ends=ends)


def quick_normalize(raw: str) -> str:
    """The same clean text as `normalize(raw).text`, without the offset map.

    Used on the hot path of scoring, where only the text is needed.
    """
    text = raw
    if looks_like_html(text):
        return normalize(raw).text
    text = _EMSCAD_PLACEHOLDER.sub(_placeholder, text)
    if not unicodedata.is_normalized("NFKC", text):
        pieces, pos = [], 0
        for start, end, rep in _nfkc_edits(text):
            pieces += [text[pos:start], rep]
            pos = end
        text = "".join(pieces) + text[pos:]
    return _WHITESPACE_TO_FIX.sub(lambda m: "\n" if "\n" in m.group() else " ", text).strip()
