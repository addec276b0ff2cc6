"""The text a person sees on an HTML page, with every character's place in the markup.

A browser extension sends a page (or an ad's element) as HTML. What the ad
says is its visible text, so that is what is read and length-limited, not
the markup: script, style, template, noscript, iframe, head and title
content, comments, and elements hidden by the `hidden` attribute or an
inline `display: none` / `visibility: hidden` style are left out; entities
are decoded.

One forward pass over the markup (linear in the input: every scan moves on,
the element stack is capped) gives two texts, each character mapped to the raw span it came from:

- `visible`: the data of the visible text nodes, concatenated in document
  order, as a browser's DOM holds them (CR LF read as LF). An extension finds
  a span of it by walking the page's text nodes with the same exclusions
  (see `tests/serve/api/routes/test_score_extension.py`) and builds a DOM Range.
- `read`: what the rules and the classifier read: the visible text with a
  line break for each block element and `<br>` (so "Free<br>flights" is two
  lines, not "Freeflights"), and the targets of messenger links
  (`<a href="https://t.me/hr">Apply</a>`) as text after the link's own text.

Known differences from a browser's HTML5 parser, which a caller can avoid by
sending the ad's own element: text that HTML5 moves out of a table
(foster parenting) stays in place here; implied end tags are followed for
`p`, `li`, `dt`/`dd`, `tr`/`td`/`th` and `option` only.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml

from . import budget

# Elements whose content a reader never sees.
SKIP_CONTENT = frozenset({"script", "style", "noscript", "template", "head", "title", "iframe", "noembed", "noframes"})
# Elements read as a line break before and after them.
BLOCK = frozenset(
    ["address", "article", "aside", "blockquote", "br", "dd", "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption", "option"]
)
VOID = frozenset(["area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"])
# Start tags that may stand in a document's head; any other one starts the body.
_HEAD_CONTENT = frozenset({"html", "head", "title", "meta", "link", "style", "script", "noscript", "base", "template"})
# A start tag of these closes an open <p> (HTML5 "close a p element").
_CLOSES_P = frozenset(
    ["address", "article", "aside", "blockquote", "details", "dialog", "div", "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "ul", "li", "dd", "dt"]
)
# tag -> (tags it closes when open, tags that stop the search for them)
_IMPLIED_END = {
    "li": ({"li"}, {"ul", "ol", "menu"}),
    "dt": ({"dt", "dd"}, {"dl"}),
    "dd": ({"dt", "dd"}, {"dl"}),
    "tr": ({"tr", "td", "th"}, {"table", "tbody", "thead", "tfoot"}),
    "td": ({"td", "th"}, {"tr", "table"}),
    "th": ({"td", "th"}, {"tr", "table"}),
    "option": ({"option"}, {"select", "datalist", "optgroup"}),
}
# Elements whose first newline the HTML5 parser drops.
_DROPS_LEADING_NEWLINE = frozenset({"pre", "listing", "textarea"})
_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!\s*important\s*)?(?:;|$)", re.I)
# Deeper elements are not tracked (browsers stop nesting at a few hundred too).
MAX_DEPTH = 512
_CR = re.compile(r"\r\n?")


@dataclass(frozen=True)
class LinkTarget:
    """A messenger link read as text: where its href value is, and the link's own visible text."""

    raw_start: int
    raw_end: int
    visible_start: int
    visible_end: int


@dataclass(frozen=True)
class PageText:
    """An HTML text read as a browser shows it; arrays map each character to its raw span."""

    raw: str
    read: str
    read_starts: np.ndarray
    read_ends: np.ndarray
    visible: str
    visible_starts: np.ndarray
    visible_ends: np.ndarray
    links: tuple[LinkTarget, ...]

    def visible_span(self, raw_start: int, raw_end: int) -> tuple[int, int]:
        """The span of `visible` whose characters lie inside the raw span [raw_start, raw_end).

        A span inside a link target's href maps to the link's own visible text;
        one covering no visible character maps to an empty span where it would be.
        """
        for link in self.links:
            if link.raw_start <= raw_start and raw_end <= link.raw_end:
                return link.visible_start, link.visible_end
        start = int(np.searchsorted(self.visible_starts, raw_start, side="left"))
        end = int(np.searchsorted(self.visible_ends, raw_end, side="right"))
        return start, max(start, end)


@lru_cache(maxsize=1)
def link_config() -> dict:
    config = yaml.safe_load(resources.files(__package__).joinpath("resources/link_targets.yaml").read_text("utf-8"))
    config["hosts"] = tuple(h.lower() for h in config["hosts"])
    config["schemes"] = frozenset(s.lower() for s in config["schemes"])
    return config


_URL_PARTS = re.compile(r"^\s*(?:([a-z][a-z0-9+.-]*):)?(?://)?([^/?#\s]*)", re.I)


@lru_cache(maxsize=1)
def _maybe_link_target() -> re.Pattern:
    """A quick test most links (/jobs/1, https://board.example/...) fail: no listed host or scheme in them."""
    config = link_config()
    words = [re.escape(h) for h in config["hosts"]] + [rf"^\s*{re.escape(s)}:" for s in config["schemes"]]
    return re.compile("|".join(words), re.I)


def is_link_target(href: str) -> bool:
    """A link whose target the rules should read: a messenger host or a contact scheme."""
    if not _maybe_link_target().search(href):
        return False
    config = link_config()
    m = _URL_PARTS.match(href)
    if not m:
        return False
    scheme = (m.group(1) or "").lower()
    if scheme in config["schemes"]:
        return True
    if scheme not in ("", "http", "https"):
        return False
    host = m.group(2).rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")
    return any(host == h or host.endswith("." + h) for h in config["hosts"])


class _Pieces:
    """Output pieces as (length, raw_start, raw_end, copied) segments, the text kept alongside."""

    __slots__ = ("length", "segments", "texts")

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.segments: list[tuple[int, int, int, int]] = []
        self.length = 0

    def add(self, text: str, raw_start: int, raw_end: int, copied: bool) -> None:
        if text:
            self.texts.append(text)
            self.segments.append((len(text), raw_start, raw_end, int(copied)))
            self.length += len(text)

    def since(self, length: int) -> str:
        """The text added since the output was `length` long."""
        out, total = [], self.length
        for text in reversed(self.texts):
            if total <= length:
                break
            out.append(text)
            total -= len(text)
        joined = "".join(reversed(out))
        return joined[length - total :] if total < length else joined

    def build(self) -> tuple[str, np.ndarray, np.ndarray]:
        if not self.segments:
            empty = np.zeros(0, np.int64)
            return "", empty, empty
        return ("".join(self.texts), *segments_to_map(self.segments))


def segments_to_map(segments: Sequence[tuple[int, int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Character map from (out_length, src_start, src_end, copied) segments.

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


# The tokenizer: a '<' that opens a tag, comment or declaration; the rest of a
# start tag (quoted values may hold '>'; possessive, so a failed match costs
# one scan of the tag); attributes; character references.
# The next token: a start or end tag (name, attributes, '>' unless the input ends inside it), or a
# '<' that opens a comment or declaration. Possessive, so a tag left open costs one scan.
_TOKEN = re.compile(r"""<(?:(/?)([A-Za-z][^\t\n\f\r />]*+)((?:[^>"']++|"[^"]*+"|'[^']*+')*+)(>?)|(?=[!?/]))""")
# Text that needs more than a copy: references, CR, NUL.
_SPECIAL = re.compile(r"[&\r\0]")
_ATTR = re.compile(r"""([^\t\n\f\r />"'=][^\t\n\f\r />=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\t\n\f\r >]*)))?""")
_COMMENT_END = re.compile(r"--!?>")
_CHARREF = re.compile(r"&(?:#[xX][0-9A-Fa-f]+;?|#[0-9]+;?|[A-Za-z][A-Za-z0-9]*;?)")
# Elements whose content is raw text up to their end tag (no tags, no references).
_RAW_TEXT = frozenset({"script", "style", "xmp", "iframe", "noembed", "noframes", "noscript"})
# ... and those whose content is text with references but no tags.
_RCDATA = frozenset({"title", "textarea"})
_END_TAG_OF: dict[str, re.Pattern] = {}

# Outside a page (a board's description, a contact field, a chat message), "<...>" around an
# address is punctuation, not markup: "HR <hiring@qq.com>", "<https://t.me/hr>", "<www.jobs.example>".
# A start tag whose name holds '@', or whose whole content is an email, a URL or a host name, is
# read as text there (a browser would make an unknown element of it, so a page is read as before).
# Anchored (`\A`): tried at one place, so no scan is ever quadratic.
_TEXT_LIKE_TAG = re.compile(
    r"""\A(?:[^\s<>@/"'=]++@[^\s<>@"'=]++"""  # an email: local@domain
    r"""|[A-Za-z][A-Za-z0-9+.-]*+://[^\s<>"']*+"""  # a URL with a scheme
    r"""|(?:mailto|tel|sms):[^\s<>"']++"""
    r"""|(?:[A-Za-z0-9-]++\.)++[A-Za-z]{2,}+(?:[/:?#][^\s<>"']*+)?+)\Z""",  # a host: www.jobs.example, t.me/hr
    re.IGNORECASE,
)
# A quick test most texts fail: a '<' and a letter, then '@', '.' or ':' before any space, '/', '<' or
# '>' (every tag `_text_like_tag` accepts has one); a text without one is read exactly as a page is.
_MAYBE_TEXT_LIKE_TAG = re.compile(r"<[A-Za-z][^\t\n\f\r /<>@.:]*+[@.:]")


def _text_like_tag(name: str, content: str) -> bool:
    """A start tag that, outside a page, is an address in angle brackets (`content`: between '<' and '>')."""
    if "<" in content:
        return False
    return "@" in name or _TEXT_LIKE_TAG.match(content) is not None


def may_hold_text_like_tags(raw: str) -> bool:
    """False when no start tag of `raw` can be an address in angle brackets (see `_text_like_tag`)."""
    return _MAYBE_TEXT_LIKE_TAG.search(raw) is not None


def _end_tag_pattern(tag: str) -> re.Pattern:
    pattern = _END_TAG_OF.get(tag)
    if pattern is None:
        pattern = _END_TAG_OF[tag] = re.compile(rf"</{re.escape(tag)}[\t\n\f\r />]", re.I)
    return pattern


class _VisibleTextReader:
    """One forward pass over the markup, in the spirit of the HTML5 tokenizer (linear time)."""

    def __init__(self, raw: str, page: bool = True) -> None:
        self._raw = raw
        self._page = page  # False: a text field, where "<hr@x.com>" is text (see `_text_like_tag`)
        self.read = _Pieces()
        self.visible = _Pieces()
        self.links: list[LinkTarget] = []
        # The open elements: (tag, hides its content); `_open[tag]` holds their stack positions.
        self._stack: list[tuple[str, bool]] = []
        self._open: dict[str, list[int]] = {}
        self._hiding = 0  # open elements that hide their content
        self._in_body = False
        self._drop_newline = False
        # The open <a> with a link target: (href, value span, read length and visible length at its start).
        self._link: tuple[str, int, int, int, int] | None = None
        self._config = link_config()

    # -- tokenizer -------------------------------------------------------------------------------
    def run(self) -> None:
        raw, n, pos, steps = self._raw, len(self._raw), 0, 0
        search = _TOKEN.search
        while pos < n:
            steps += 1
            if not steps & 255:
                budget.check()  # the API's per-request scoring budget (model/budget.py)
            m = search(raw, pos)
            if m is None:
                self._data(pos, n)
                break
            lt = m.start()
            if lt > pos:
                self._data(pos, lt)
            name = m.group(2)
            if name is not None:
                if not m.group(4):  # the input ends inside the tag: nothing more is text
                    break
                if not self._page and not m.group(1) and _text_like_tag(name, raw[lt + 1 : m.end() - 1]):
                    self._data(lt, m.end())
                    pos = m.end()
                    continue
                pos = m.end()
                tag = name.lower()
                if m.group(1):
                    self._end_tag(tag, lt, pos)
                    continue
                self._start_tag(tag, m.group(3), lt, pos)
                if tag in _RAW_TEXT or tag in _RCDATA:
                    end = _end_tag_pattern(tag).search(raw, pos)
                    stop = end.start() if end else n
                    if tag in _RCDATA and stop > pos:
                        self._data(pos, stop)
                    pos = stop
                elif tag == "plaintext":
                    self._data(pos, n, references=False)
                    break
                continue
            nxt = raw[lt + 1]
            if nxt == "!":
                pos = self._comment_end(lt) if raw.startswith("<!--", lt) else self._bogus_comment(lt)
            elif nxt == "?":
                pos = self._bogus_comment(lt)
            else:  # "</" not followed by a letter: "</>" is dropped, the rest is a bogus comment
                pos = lt + 3 if raw.startswith(">", lt + 2) else self._bogus_comment(lt)

    def _comment_end(self, lt: int) -> int:
        """Past "-->" (or "--!>"; "<!-->" and "<!--->" are empty comments); an open comment runs to the end."""
        raw, body = self._raw, lt + 4
        if raw.startswith(">", body):
            return body + 1
        if raw.startswith("->", body):
            return body + 2
        close = _COMMENT_END.search(raw, body)
        return close.end() if close else len(raw)

    def _bogus_comment(self, lt: int) -> int:
        close = self._raw.find(">", lt)
        return close + 1 if close != -1 else len(self._raw)

    def _data(self, start: int, end: int, references: bool = True) -> None:
        """Text between tags: verbatim runs and decoded character references."""
        if self._hiding:
            return
        raw = self._raw
        if _SPECIAL.search(raw, start, end) is None and self._in_body and not self._drop_newline:
            # The common case: plain text in the body, copied as is to both texts.
            text = raw[start:end]
            for pieces in (self.read, self.visible):
                pieces.texts.append(text)
                pieces.segments.append((end - start, start, end, 1))
                pieces.length += end - start
            return
        if not references or raw.find("&", start, end) == -1:
            self._text(raw[start:end], start, end, True)
            return
        pos = start
        for m in _CHARREF.finditer(raw, start, end):
            token = m.group()
            text = html.unescape(token)
            if text == token:
                continue  # not a reference ("&ab"): stays in the verbatim run
            if m.start() > pos:
                self._text(raw[pos : m.start()], pos, m.start(), True)
            self._text(text, m.start(), m.end(), False)
            pos = m.end()
        if pos < end:
            self._text(raw[pos:end], pos, end, True)

    # -- the element stack ---------------------------------------------------------------------
    def _pop_to(self, index: int) -> None:
        """Close the element at stack position `index` and every one opened inside it."""
        while len(self._stack) > index:
            tag, hides = self._stack.pop()
            self._open[tag].pop()
            self._hiding -= hides
            if tag == "a":
                self._close_link()

    def _top(self, tag: str) -> int:
        positions = self._open.get(tag)
        return positions[-1] if positions else -1

    def _implied_ends(self, tag: str) -> None:
        open_ = self._open
        if tag in _CLOSES_P and open_.get("p"):
            self._pop_to(open_["p"][-1])
        if tag == "a" and open_.get("a"):
            self._pop_to(open_["a"][-1])
        rule = _IMPLIED_END.get(tag)
        if rule:
            closes, stops = rule
            at = max(self._top(t) for t in closes)
            if at >= 0 and at > max(self._top(t) for t in stops):
                self._pop_to(at)
        if not self._in_body and tag not in _HEAD_CONTENT:
            self._start_body()

    def _start_body(self) -> None:
        self._in_body = True
        if self._top("head") >= 0:
            self._pop_to(self._top("head"))

    # -- output ------------------------------------------------------------------------------
    def _text(self, text: str, start: int, end: int, copied: bool) -> None:
        if self._hiding or not text:
            return
        if self._drop_newline:
            self._drop_newline = False
            if copied and text.startswith("\r\n"):
                text, start = text[2:], start + 2
            elif copied and text[0] in "\r\n":
                text, start = text[1:], start + 1
        if not self._in_body:
            if not text.strip():
                return
            self._start_body()
        if "\0" in text and copied:  # the HTML5 parser drops NUL from text
            pos = 0
            for piece in text.split("\0"):
                if piece:
                    self._text_lines(piece, start + pos, start + pos + len(piece), True)
                pos += len(piece) + 1
            return
        self._text_lines(text, start, end, copied)

    def _text_lines(self, text: str, start: int, end: int, copied: bool) -> None:
        if copied and "\r" in text:  # CR LF and CR read as LF, as a browser's DOM holds them
            pos = 0
            for m in _CR.finditer(text):
                self._emit(text[pos : m.start()], start + pos, start + m.start(), True)
                self._emit("\n", start + m.start(), start + m.end(), False)
                pos = m.end()
            self._emit(text[pos:], start + pos, end, True)
            return
        self._emit(text, start, end, copied)

    def _emit(self, text: str, start: int, end: int, copied: bool) -> None:
        self.read.add(text, start, end, copied)
        self.visible.add(text, start, end, copied)

    def _line_break(self, start: int, end: int) -> None:
        if not self._hiding:
            self.read.add("\n", start, max(end, start + 1), False)

    # -- links ---------------------------------------------------------------------------------
    def _open_link(self, attrs: dict[str, tuple[str, int, int]]) -> None:
        if "href" not in attrs or len(self.links) >= self._config["max_links"]:
            return
        value, start, end = attrs["href"]
        href = html.unescape(value).strip()
        if not href or not is_link_target(href):
            return
        self._link = (href[: self._config["max_chars"]], start, end, self.read.length, self.visible.length)

    def _close_link(self) -> None:
        if self._link is None:
            return
        href, start, end, read_at, visible_at = self._link
        self._link = None
        self.links.append(LinkTarget(start, end, visible_at, self.visible.length))
        bare = re.sub(r"^[a-z][a-z0-9+.-]*:(?://)?", "", href, flags=re.I).lower()
        if bare and bare in self.read.since(read_at).lower():
            return  # the link's own text already says where it goes
        copied = self._raw.startswith(href, start)
        self.read.add("\n", start, end, False)
        self.read.add(href, start, start + len(href) if copied else end, copied)
        self.read.add("\n", start, end, False)

    # -- tags ----------------------------------------------------------------------------------
    def _attributes(self, text: str, offset: int) -> dict[str, tuple[str, int, int]]:
        """name -> (value, raw start, raw end of the value); the first of a repeated name wins."""
        out: dict[str, tuple[str, int, int]] = {}
        for m in _ATTR.finditer(text):
            name = m.group(1).lower()
            if name in out:
                continue
            group = next((g for g in (2, 3, 4) if m.group(g) is not None), None)
            if group is None:
                out[name] = ("", offset + m.end(), offset + m.end())
            else:
                out[name] = (m.group(group), offset + m.start(group), offset + m.end(group))
        return out

    def _start_tag(self, tag: str, attr_text: str, start: int, end: int) -> None:
        self._drop_newline = False
        if tag in ("html", "body"):
            if tag == "body" and not self._in_body:
                self._start_body()
            return
        self._implied_ends(tag)
        if tag in BLOCK and not self._hiding:
            self.read.add("\n", start, end, False)
        if tag in VOID:
            return
        if attr_text.endswith("/") and (tag in ("svg", "math") or self._open.get("svg") or self._open.get("math")):
            return  # foreign content honours "/>"; HTML elements do not
        attrs: dict = {}
        if attr_text:
            lowered = attr_text.lower()
            if "hidden" in lowered or "style" in lowered or (tag == "a" and "href" in lowered):
                attrs = self._attributes(attr_text, end - 1 - len(attr_text))
        style = attrs.get("style", ("",))[0]
        hides = tag in SKIP_CONTENT or "hidden" in attrs or bool(style and _HIDDEN_STYLE.search(style))
        if len(self._stack) < MAX_DEPTH:  # deeper elements are not tracked
            self._open.setdefault(tag, []).append(len(self._stack))
            self._stack.append((tag, hides))
            self._hiding += hides
        if tag == "a" and not self._hiding:
            self._open_link(attrs)
        if tag in _DROPS_LEADING_NEWLINE:
            self._drop_newline = True

    def _end_tag(self, tag: str, start: int, end: int) -> None:
        self._drop_newline = False
        if tag in ("html", "body"):
            return
        if tag == "br":  # HTML5 reads </br> as <br>
            self._line_break(start, end)
            return
        positions = self._open.get(tag)
        if positions:
            self._pop_to(positions[-1])
        if tag in BLOCK and not self._hiding:
            self.read.add("\n", start, end, False)

    def close(self) -> None:
        self._close_link()


def _parse(raw: str, page: bool = True) -> PageText:
    parser = _VisibleTextReader(raw, page)
    parser.run()
    parser.close()
    read, read_starts, read_ends = parser.read.build()
    visible, visible_starts, visible_ends = parser.visible.build()
    return PageText(raw, read, read_starts, read_ends, visible, visible_starts, visible_ends, tuple(parser.links))


class TextCache:
    """Results of `build(raw)` for recently seen texts, bounded by their total length.

    One request reads its page up to three times (scoring, reasons, visible
    offsets), and a 200 KB page costs tens of milliseconds to read.
    """

    def __init__(self, build, max_chars: int) -> None:
        self._build = build
        self.max_chars = max_chars
        self._items: OrderedDict[str, object] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, raw: str):
        with self._lock:
            item = self._items.get(raw)
            if item is not None:
                self._items.move_to_end(raw)
                return item
        item = self._build(raw)
        if len(raw) <= self.max_chars:
            with self._lock:
                if raw not in self._items:
                    self._items[raw] = item
                    self._chars += len(raw)
                while self._chars > self.max_chars:
                    old, _ = self._items.popitem(last=False)
                    self._chars -= len(old)
        return item

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0


# Bounded by raw length: a cached page holds about 32 bytes of maps per character read.
_CACHE = TextCache(_parse, max_chars=2_000_000)


_FIELD_CACHE = TextCache(lambda raw: _parse(raw, page=False), max_chars=2_000_000)


def read_page(raw: str, page: bool = True) -> PageText:
    """The visible and the read text of an HTML text, with their maps to the raw characters.

    `page=False` reads a text field that holds markup: an address in angle brackets
    ("HR <hiring@qq.com>") stays text there, where a browser would drop it as an unknown tag.
    """
    if page or not may_hold_text_like_tags(raw):
        return _CACHE.get(raw)
    return _FIELD_CACHE.get(raw)
