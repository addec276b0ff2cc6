"""Keep Python's HTML parser linear on markup that never closes.

`html.parser.HTMLParser` (CPython 3.11) rescans to the end of the input for
every construct it cannot close: `"<p " * 17000` took 25 s, runs of `<a`,
`<a href='`, `<!--` or `&#` seconds each (issue 15). At the end of the input
the parser hands such a construct over as text anyway, so `defuse` marks, in
one linear pass, every opener that has no terminator anywhere after it
(`>` for tags, declarations and processing instructions, `--\\s*>` for
comments, `]]>` / `]>` for marked sections), and every `&#` that is not a
character reference, by swapping its first character for a stand-in the
input does not contain. The parser then reads it as text at once; the caller swaps the stand-ins
back in the text it collects. The swap is one character for one, so offsets
into the defused text index the original as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPENER = re.compile(r"<(?:!--|!\[|[a-zA-Z/!?])|&#")
_COMMENT_CLOSE = re.compile(r"--\s*>")
_MARKED_CLOSE = re.compile(r"]\s*]\s*>")
_MS_MARKED_CLOSE = re.compile(r"]\s*>")
_MARKED_NAME = re.compile(r"<!\[\s*([a-zA-Z][-_.a-zA-Z0-9]*)\s*")
# What CPython's parser accepts as a character reference (html/parser.py `charref`).
_CHARREF = re.compile(r"&#(?:[0-9]+|[xX][0-9a-fA-F]+)[^0-9a-fA-F]")
# Keywords of marked sections the parser knows; any other makes it raise.
_MARKED_STANDARD = frozenset({"temp", "cdata", "ignore", "include", "rcdata"})
_MARKED_MS = frozenset({"if", "else", "endif"})
# Private-use characters tried as stand-ins, in order.
_STAND_INS = [chr(c) for c in range(0xE000, 0xE020)]


@dataclass(frozen=True)
class Defused:
    """Markup safe to parse, and the stand-ins to swap back in its text."""

    text: str
    lt: str | None  # stands for "<" (None: nothing was defused)
    amp: str | None  # stands for "&"

    def restore(self, piece: str) -> str:
        """Text collected from `self.text` with the original characters back."""
        if self.lt and self.lt in piece:
            piece = piece.replace(self.lt, "<")
        if self.amp and self.amp in piece:
            piece = piece.replace(self.amp, "&")
        return piece


def _last_end(pattern: re.Pattern, text: str) -> int:
    """Start of the last match of `pattern` in `text` (-1: none); one pass."""
    last = -1
    for m in pattern.finditer(text):
        last = m.start()
    return last


def _stand_ins(text: str) -> tuple[str, str] | None:
    free = [ch for ch in _STAND_INS if ch not in text]
    return (free[0], free[1]) if len(free) >= 2 else None


def defuse(raw: str) -> Defused:
    """`raw` with every opener that never closes turned into text (see module docstring)."""
    last_gt = raw.rfind(">")
    last_comment_close = -2  # computed on first use
    last_marked = last_ms = -2
    positions: list[tuple[int, bool]] = []  # (index, is "&")
    for m in _OPENER.finditer(raw):
        i, token = m.start(), m.group()
        if token == "&#":
            # The parser scans the whole rest for ';' at every '&#' it cannot read
            # (and, with none, hands the whole rest over as text).
            if not _CHARREF.match(raw, i):
                positions.append((i, True))
            continue
        if token == "<!--":
            if last_comment_close == -2:
                last_comment_close = _last_end(_COMMENT_CLOSE, raw)
            closed = last_comment_close >= i + 4
        elif token == "<![":
            name = _MARKED_NAME.match(raw, i)
            keyword = name.group(1).lower() if name else ""
            if keyword in _MARKED_STANDARD:
                if last_marked == -2:
                    last_marked = _last_end(_MARKED_CLOSE, raw)
                closed = last_marked >= i + 3
            elif keyword in _MARKED_MS:
                if last_ms == -2:
                    last_ms = _last_end(_MS_MARKED_CLOSE, raw)
                closed = last_ms >= i + 3
            else:
                closed = False  # CPython raises on an unknown keyword
        else:
            closed = last_gt > i
        if not closed:
            positions.append((i, False))
    if not positions:
        return Defused(raw, None, None)
    stand_ins = _stand_ins(raw)
    if stand_ins is None:  # every stand-in occurs in the text: leave it to the scoring budget
        return Defused(raw, None, None)
    lt, amp = stand_ins
    chars = list(raw)
    for i, is_amp in positions:
        chars[i] = amp if is_amp else lt
    return Defused("".join(chars), lt, amp)
