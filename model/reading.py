"""How much of a field is read: over-long read text is cut to its head and tail.

The limit applies to the text as read (for HTML, the visible text), never to
the raw input, so markup does not use up the budget and an ad at the end of
a long page is still read. A field whose read text is longer than
`max_chars` keeps its first `FIELD_HEAD_SHARE` and its end (where contacts
usually are), joined by a line break; the response's `scored_ranges` say
which characters of each field as sent were read, and `content_dropped`
whether any were not.
"""

from __future__ import annotations

import numpy as np
import regex

from .textnorm import NormalizedText, looks_like_html, normalize

FIELD_HEAD_SHARE = 0.5


# A character a reader sees: not whitespace, not an invisible one.
_READABLE = regex.compile(r"[^\s\p{Default_Ignorable_Code_Point}]")


def reads_empty(raw: str, *, page: bool = False) -> bool:
    """True when nothing is left once the field is read (only whitespace, invisible characters, tags, comments).

    `page`: `raw` is the `html` field, read as a browser shows it (textnorm.normalize)."""
    if looks_like_html(raw):
        return not normalize(raw, page=page).text
    return _READABLE.search(raw) is None


def kept_spans(length: int, max_chars: int | None) -> list[tuple[int, int]]:
    """The [start, end) spans of a read text of `length` characters that are kept."""
    if max_chars is None or length <= max_chars:
        return [(0, length)] if length else []
    head = int((max_chars - 1) * FIELD_HEAD_SHARE)
    tail = max_chars - 1 - head
    return [(0, head), (length - tail, length)]


def cap_text(text: str, max_chars: int | None) -> str:
    """`text` cut to its head and tail (a line break between them) when longer than `max_chars`."""
    spans = kept_spans(len(text), max_chars)
    if len(spans) < 2:
        return text
    (_, head), (tail, _) = spans
    return text[:head] + "\n" + text[tail:]


def cap_normalized(norm: NormalizedText, max_chars: int | None) -> NormalizedText:
    """`norm` cut like `cap_text`, its map kept: the joining line break stands for what was dropped."""
    spans = kept_spans(len(norm.text), max_chars)
    if len(spans) < 2:
        return norm
    (_, head), (tail, _) = spans
    gap_start, gap_end = int(norm.ends[head - 1]), int(norm.starts[tail])
    starts = np.concatenate([norm.starts[:head], [gap_start], norm.starts[tail:]])
    ends = np.concatenate([norm.ends[:head], [max(gap_end, gap_start)], norm.ends[tail:]])
    return NormalizedText(raw=norm.raw, text=cap_text(norm.text, max_chars), starts=starts, ends=ends)


def read_field(raw: str, max_chars: int | None = None, *, page: bool = False) -> NormalizedText:
    """The field as read and scored: normalised, then cut to `max_chars` (`page`: the `html` field)."""
    return cap_normalized(normalize(raw, page=page), max_chars)


def scored_raw_spans(mapped: NormalizedText, read_chars: int, max_chars: int | None) -> list[tuple[int, int]]:
    """The spans of the field as sent (code points) whose read text was scored.

    `mapped` is the field as read (`read_field`, so already cut) and
    `read_chars` the length of its read text before the cut."""
    spans = kept_spans(read_chars, max_chars)
    if len(spans) < 2:
        return [(0, len(mapped.raw))] if spans else []
    (_, head), _ = spans
    # Markup before the head and after the tail was read too; the gap between them
    # (the joining line break, at index `head` of the cut text) was not.
    return [(0, int(mapped.ends[head - 1])), (int(mapped.starts[head + 1]), len(mapped.raw))]
