"""Match red-flag rules against a listing and report spans in the caller's text.

Phrases from every rule file go into one Aho-Corasick automaton, so a listing
is scanned once whatever the number of phrases; only the few regex patterns
(amounts, handles, links) run one by one. Matching happens on the normalised
text of each field and the spans are mapped back to the field as given.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional

import ahocorasick
import numpy as np

from ..listing import JobListing
from ..textnorm import NormalizedText, normalize
from .rules import Rule, RuleSet, load_ruleset


@dataclass(frozen=True)
class RedFlagMatch:
    """One rule hit: where, what, and why it matters."""

    category: str
    kind: str  # "risk" or "mitigating"
    severity: str
    rule_id: str
    field: str
    start: int  # offsets into the field exactly as the caller gave it
    end: int
    text: str
    explanation: str

    def as_reason(self) -> dict:
        return {
            "category": self.category,
            "severity": self.severity,
            "rule_id": self.rule_id,
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "explanation": self.explanation,
        }


def _lower_same_length(text: str) -> str:
    """Lower-case without changing any character's position ('İ' stays one char)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(ch if len(low := ch.lower()) != 1 else low for ch in text)


def fold_diacritics(text: str) -> str:
    """'Việc nhẹ lương cao' -> 'viec nhe luong cao' (for diacritic-free typing)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def _without_spaces(text: str) -> tuple[str, np.ndarray]:
    """Text with whitespace removed, and each kept character's original index."""
    keep = [i for i, ch in enumerate(text) if not ch.isspace()]
    return "".join(text[i] for i in keep), np.asarray(keep, dtype=np.int64)


def _is_word_char(ch: str) -> bool:
    """Letters and digits of alphabetic scripts (Latin incl. Vietnamese, Greek,
    Cyrillic...). CJK, Thai, Khmer or Hangul next to a Latin phrase
    ("Telegram联系") is not a word boundary violation."""
    if ch == "_":
        return True
    if not ch.isalnum():
        return False
    code = ord(ch)
    return code < 0x0E00 or 0x1E00 <= code <= 0x1EFF


def _drop_nested(hits: set[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Sorted hits, without those inside a longer hit of the same rule
    ("no experience" inside "no experience needed")."""
    ordered = sorted(hits, key=lambda h: (h[0], h[1], -h[2]))
    kept: list[tuple[int, int, int]] = []
    for rule, start, end in ordered:
        if kept and kept[-1][0] == rule and kept[-1][1] <= start and end <= kept[-1][2]:
            continue
        kept.append((rule, start, end))
    kept.sort(key=lambda h: (h[1], h[2], h[0]))
    return kept


class RedFlagEngine:
    """Compiled rules; thread-safe to share (matching keeps no state)."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.rules = ruleset.rules
        self._spaced = ahocorasick.Automaton()
        self._spaceless = ahocorasick.Automaton()
        spaced: dict[str, set[int]] = {}
        spaceless: dict[str, set[int]] = {}
        for index, rule in enumerate(self.rules):
            for phrase in rule.phrases:
                variants = {phrase}
                if rule.fold_diacritics:
                    variants.add(fold_diacritics(phrase))
                for variant in variants:
                    key = _lower_same_length(unicodedata.normalize("NFKC", variant))
                    if rule.spacing_insensitive:
                        spaceless.setdefault("".join(key.split()), set()).add(index)
                    else:
                        spaced.setdefault(key, set()).add(index)
        for automaton, table in ((self._spaced, spaced), (self._spaceless, spaceless)):
            for key, indices in table.items():
                automaton.add_word(key, (len(key), tuple(sorted(indices))))
            if table:
                automaton.make_automaton()
        self._has_spaced = bool(spaced)
        self._has_spaceless = bool(spaceless)
        self._pattern_rules = [(i, r) for i, r in enumerate(self.rules) if r.patterns]

    def match_text(self, text: str) -> list[tuple[Rule, int, int]]:
        """(rule, start, end) hits in clean text; offsets index `text`."""
        hits: set[tuple[int, int, int]] = set()
        lowered = _lower_same_length(text)
        if self._has_spaced:
            for end_index, (length, indices) in self._spaced.iter(lowered):
                start, end = end_index - length + 1, end_index + 1
                for i in indices:
                    if self.rules[i].word_boundaries and not self._at_word_bounds(lowered, start, end):
                        continue
                    hits.add((i, start, end))
        if self._has_spaceless:
            compact, positions = _without_spaces(lowered)
            for end_index, (length, indices) in self._spaceless.iter(compact):
                start, end = int(positions[end_index - length + 1]), int(positions[end_index]) + 1
                for i in indices:
                    hits.add((i, start, end))
        for i, rule in self._pattern_rules:
            for pattern in rule.patterns:
                for m in pattern.finditer(text):
                    if m.end() > m.start():
                        hits.add((i, m.start(), m.end()))
        return [(self.rules[i], s, e) for i, s, e in _drop_nested(hits)]

    @staticmethod
    def _at_word_bounds(text: str, start: int, end: int) -> bool:
        if start > 0 and _is_word_char(text[start]) and _is_word_char(text[start - 1]):
            return False
        if end < len(text) and _is_word_char(text[end - 1]) and _is_word_char(text[end]):
            return False
        return True

    def match_field(self, field: str, normalized: NormalizedText) -> list[RedFlagMatch]:
        out = []
        for rule, start, end in self.match_text(normalized.text):
            raw_start, raw_end = normalized.to_raw(start, end)
            out.append(
                RedFlagMatch(
                    category=rule.category,
                    kind=rule.kind,
                    severity=rule.severity,
                    rule_id=rule.id,
                    field=field,
                    start=raw_start,
                    end=raw_end,
                    text=normalized.raw[raw_start:raw_end],
                    explanation=rule.explanation,
                )
            )
        return out

    def match_listing(self, listing: JobListing, normalized: Optional[dict[str, NormalizedText]] = None) -> list[RedFlagMatch]:
        """Every hit in every text field; `normalized` reuses already-normalised fields."""
        out: list[RedFlagMatch] = []
        for field, raw in listing.text_fields():
            norm = normalized.get(field) if normalized else None
            out.extend(self.match_field(field, norm if norm is not None else normalize(raw)))
        return out


@lru_cache(maxsize=1)
def default_engine() -> RedFlagEngine:
    """The engine over the packaged rules, built once per process."""
    return RedFlagEngine(load_ruleset())


def risk_reasons(matches: Iterable[RedFlagMatch]) -> list[dict]:
    """Risk matches as API/CLI reasons, most severe first, then by position."""
    risky = [m for m in matches if m.kind == "risk"]
    risky.sort(key=lambda m: (-{"high": 3, "medium": 2, "low": 1}[m.severity], m.field, m.start))
    return [m.as_reason() for m in risky]
