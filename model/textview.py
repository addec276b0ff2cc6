"""The classifier's view of a listing, with the tells of where an ad came from
taken out.

Public data comes from a handful of boards, and the only real scams from one
of them (EMSCAD). A model that reads the text as scraped learns the board, not
the scam: EMSCAD writes locations as "US, TX, Houston", leaves `&amp;` in its
text, hides contacts as `#URL_…#`, splits ads into company profile /
description / requirements / benefits and glues paragraphs together where its
HTML was stripped ("controlsLocation"); each other board has tells of its own.
`neutral_text` renders every listing the same way whatever its source:

- only what describes the job: title (once), salary, contact, description,
  requirements, benefits, text; not the location, company name, company
  profile, URL or employment type fields, whose format is a board's;
- HTML entities decoded; words glued by tag stripping split again;
- URLs, e-mails and phone numbers (and EMSCAD's placeholders) masked to the
  same tokens; digits folded to 0 (currencies and salary formats vary by
  board, the amount is read by the red-flag rules); place names to [place]
  (each board's home cities are its tells, the destination is read by the
  red flags); emoji and decorations out; lower case.

The red-flag engine still reads the fields as sent: a Telegram handle, a pay
figure or a compound hub is never lost to the classifier, only its spelling.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import ahocorasick
import regex

from .listing import JobListing
from .redflags.destination import default_destinations

# Fields whose content or format belongs to a board rather than to the job.
BOARD_FIELDS = frozenset({"location", "company", "company_profile", "url", "employment_type"})
VIEW_FIELDS = ("title", "salary", "contact", "description", "requirements", "benefits", "text", "html")

_TLDS = "com|net|org|me|io|co|info|biz|vn|kh|ph|id|my|th|kr|jp|cn|tw|hk|mm|la|sg|app|ee"
_URL_WITH_SCHEME = r"(?:https?://|www\.)\S{1,2000}"
_URL = re.compile(rf"{_URL_WITH_SCHEME}|\b(?:[a-z0-9-]{{1,63}}\.){{1,8}}(?:{_TLDS})\b(?:/\S{{0,2000}})?", re.IGNORECASE)
# A bare domain needs ".<tld>"; without one anywhere, only the first branch can match, and
# alone it skips the domain branch's backtracking (40-60 ms on 50,000 characters of "1-1-").
_ANY_TLD = re.compile(rf"\.(?:{_TLDS})\b", re.IGNORECASE)
_URL_SCHEME_ONLY = re.compile(_URL_WITH_SCHEME, re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s().-]{7,30}\d(?!\w)")
_PLACEHOLDER = re.compile(r"#(URL|EMAIL|PHONE)_[0-9a-fA-F]{6,}#|\[(URL|EMAIL|PHONE)\]")
# A lower-case letter (or closing punctuation) glued to the capital that starts the next paragraph.
_GLUED = regex.compile(r"(?<=\p{Ll})(?=\p{Lu}\p{Ll})|(?<=\p{Lu}\p{Lu})(?=\p{Lu}\p{Ll}\p{Ll})|(?<=[.!?:;)])(?=\p{Lu})")
_DIGITS = regex.compile(r"\d")
# Emoji, pictographs, dingbats, box drawing and bullet-like decorations.
_DECORATION = regex.compile(r"[\p{Extended_Pictographic}\u2500-\u25ff\u2022\u2023\u2043\u2219\u00b7\u2605\u2606\u2713\u2714\u2716\u27a1\u2b50\ufe0f\u200d]+")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def mask_contacts(text: str) -> str:
    """URLs, e-mails, phone numbers and EMSCAD's placeholders -> [URL], [EMAIL], [PHONE]."""
    # Each pattern needs a character most ads lack ('#' or '[', '@'); without it the pass is skipped.
    if "#" in text or "[" in text:
        text = _PLACEHOLDER.sub(lambda m: f" [{m.group(1) or m.group(2)}] ", text)
    if "@" in text:
        text = _EMAIL.sub(" [EMAIL] ", text)
    text = (_URL if _ANY_TLD.search(text) else _URL_SCHEME_ONLY).sub(" [URL] ", text)
    return _PHONE.sub(lambda m: " [PHONE] " if sum(c.isdigit() for c in m.group()) >= 8 else m.group(), text)


def head_tail(text: str, max_chars: int, head_share: float = 0.75) -> str:
    """Keep the start and the end of an over-long text (contacts sit at the end)."""
    if len(text) <= max_chars:
        return text
    head = int(max_chars * head_share)
    return text[:head] + "\n" + text[len(text) - (max_chars - head) :]


class PlaceMasker:
    """Every place name the destination table knows -> one token, longest name first.

    One alternation of some 200 names is tried at every position of an ad and
    costs milliseconds, while an ad names one or two places at most. So the
    names that occur at all are found first, in one Aho-Corasick pass over the
    case-folded text, and the alternation is built from those alone, in the
    same longest-first order: the same matches for a fraction of the work.
    """

    def __init__(self, names) -> None:
        self.names = tuple(sorted(set(names), key=len, reverse=True))
        self._automaton = ahocorasick.Automaton()
        folded: dict[str, list[str]] = {}
        for name in self.names:
            folded.setdefault(name.casefold(), []).append(name)
        for key, group in folded.items():
            self._automaton.add_word(key, tuple(group))
        if folded:
            self._automaton.make_automaton()

    def sub(self, replacement: str, text: str) -> str:
        if not self.names:
            return text
        found = {name for _end, group in self._automaton.iter(text.casefold()) for name in group}
        present = tuple(name for name in self.names if name in found)
        return _alternation(present).sub(replacement, text) if present else text


@lru_cache(maxsize=4096)
def _alternation(names: tuple[str, ...]) -> regex.Pattern:
    return regex.compile(r"(?<!\w)(?:" + "|".join(regex.escape(n) for n in names) + r")(?!\w)", regex.IGNORECASE)


@lru_cache(maxsize=1)
def _places() -> PlaceMasker:
    return PlaceMasker(default_destinations().places)


def neutral_text(listing: JobListing, clean_fields: dict[str, str], max_chars: int = 6000) -> str:
    """The source-neutral view of a listing that the n-gram features read (see the module docstring)."""
    parts = []
    title = clean_fields.get("title", "")
    for name in VIEW_FIELDS:
        value = clean_fields.get(name)
        if not value:
            continue
        if name != "title" and title and value.startswith(title):
            value = value[len(title) :]  # the title once, not again at the head of the body
        parts.append(value)
    # Location values named in the body are the board's home cities too.
    location = (clean_fields.get("location") or "").strip()
    text = "\n".join(parts)
    text = html.unescape(html.unescape(text))
    text = mask_contacts(text)
    text = _GLUED.sub(" ", text)
    if location and len(location) >= 3:
        text = text.replace(location, " [place] ")
    text = _places().sub(" [place] ", text)
    text = _DECORATION.sub(" ", text)
    text = _DIGITS.sub("0", text)
    text = _SPACES.sub(" ", text.lower())
    text = _BLANK_LINES.sub("\n", text).strip()
    return head_tail(text, max_chars)
