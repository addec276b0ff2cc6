"""Reason offsets in the units a caller needs: code points, UTF-16, and the page's visible text.

Python counts code points; JavaScript strings (`String.slice`, DOM Ranges)
count UTF-16 code units, so an emoji or a rare Han character before a flag
shifts every later offset by one. Each reason therefore carries both. For
`html` input a reason also says where it lies in the page's visible text
(the concatenated data of its visible text nodes, see visible_text.py), so
an extension can map it onto DOM text nodes without parsing markup.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

from .listing import HTML_FIELD
from .visible_text import read_page


class Utf16Index:
    """Code-point offset -> UTF-16 offset for one string."""

    def __init__(self, text: str) -> None:
        self._astral = None
        if not text.isascii() and len(text.encode("utf-16-le")) != 2 * len(text):
            wide = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) > 0xFFFF
            self._astral = np.concatenate([[0], np.cumsum(wide)])

    def __call__(self, index: int) -> int:
        return index if self._astral is None else index + int(self._astral[index])


class TextRange(BaseModel):
    """A span of one field as sent, in code points and in UTF-16 code units."""

    field: str
    start: int = Field(description="Start, in code points (Python string indices).")
    end: int = Field(description="End (exclusive), in code points.")
    start_utf16: int = Field(description="Start, in UTF-16 code units (JavaScript string indices).")
    end_utf16: int = Field(description="End (exclusive), in UTF-16 code units.")


class _FieldUnits:
    """The unit maps of one field, built once per scored listing."""

    def __init__(self, raw: str, is_html: bool) -> None:
        self.raw_utf16 = Utf16Index(raw)
        self.page = read_page(raw) if is_html else None
        self.visible_utf16 = Utf16Index(self.page.visible if self.page is not None else "")


def _units(cache: dict, listing, field: str) -> _FieldUnits | None:
    if field not in cache:
        raw = getattr(listing, field, None)
        cache[field] = _FieldUnits(raw, field == HTML_FIELD) if isinstance(raw, str) else None
    return cache[field]


def add_offset_units(reasons: Sequence, listing, scored: Sequence[tuple[str, int, int]] = ()) -> list[TextRange]:
    """Fill each reason's UTF-16 and visible-text offsets; return `scored` (field, start, end) as TextRanges."""
    cache: dict = {}
    for reason in reasons:
        units = _units(cache, listing, reason.field)
        if units is None:
            continue
        reason.start_utf16 = units.raw_utf16(reason.start)
        reason.end_utf16 = units.raw_utf16(reason.end)
        if units.page is not None:
            vs, ve = units.page.visible_span(reason.start, reason.end)
            reason.visible_start, reason.visible_end = vs, ve
            reason.visible_start_utf16 = units.visible_utf16(vs)
            reason.visible_end_utf16 = units.visible_utf16(ve)
            reason.visible_text = units.page.visible[vs:ve]
    ranges = []
    for field, start, end in scored:
        units = _units(cache, listing, field)
        assert units is not None, f"scored field {field} is not text"
        ranges.append(
            TextRange(
                field=field,
                start=start,
                end=end,
                start_utf16=units.raw_utf16(start),
                end_utf16=units.raw_utf16(end),
            )
        )
    return ranges
