"""Match red-flag rules against a field's read text.

Phrases go into Aho-Corasick automata (one per view of the text: as written,
without spaces for Korean/CJK/Thai/Khmer/Burmese, without diacritics for
Vietnamese; and one per script, skipped when the script is absent), so a
listing is scanned once whatever the number of phrases. Regex patterns
(amounts, handles, links) run only when a word they cannot match without
occurs (prefilter.py). The engine sees one normalised text at a time;
features.prepare runs it over a listing's fields and reasons.py maps the
spans back to the fields as sent.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import lru_cache

import ahocorasick
import numpy as np
import regex

from .. import budget
from .charmap import CharMap
from .prefilter import MatchReach, match_reach, required_literals, split_leading_alternation
from .rules import NegationScope, Rule, RuleSet, load_ruleset
from .windows import TextRuns, scan_ranges


@dataclass(frozen=True)
class RedFlagMatch:
    """One rule hit: where, what, and why it matters."""

    category: str
    kind: str  # "risk", "mitigating" or "context"
    severity: str
    rule_id: str
    field: str
    start: int  # offsets into the field's read text (PreparedListing.clean_fields; reasons.py maps them back)
    end: int
    text: str
    explanation: str
    scam_kind: str | None = None  # risk matches: the scam kind the sign belongs to
    decisive: bool = False  # a trafficking indicator that flags the listing whatever its score
    country: str | None = None  # destination matches: where the place lies

    @classmethod
    def of(cls, rule: Rule, field: str, start: int, end: int, text: str) -> RedFlagMatch:
        described = {name: getattr(rule, name) for name in _RULE_ATTRIBUTES}
        return cls(rule_id=rule.id, field=field, start=start, end=end, text=text, **described)


# What a match copies from its rule.
_RULE_ATTRIBUTES = ("category", "kind", "severity", "explanation", "scam_kind", "decisive", "country")


def _lower_same_length(text: str) -> str:
    """Lower-case without changing any character's position ('İ' stays one char)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(ch if len(low := ch.lower()) != 1 else low for ch in text)


def _fold_table() -> dict[int, str]:
    """Latin letters with diacritics -> base letter, one character for one."""
    table = {ord("đ"): "d", ord("Đ"): "D"}
    for code in list(range(0xC0, 0x250)) + list(range(0x1E00, 0x1F00)):
        ch = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if len(base) == 1 and base != ch:
            table[code] = base
    return table


_FOLD_TABLE = _fold_table()
_FOLD = CharMap(_FOLD_TABLE)
_FOLDABLE = regex.compile(r"[\u00c0-\u024f\u1e00-\u1eff]")  # a superset of the table's keys


def fold_diacritics(text: str) -> str:
    """'Việc nhẹ lương cao' -> 'Viec nhe luong cao' (for diacritic-free typing).

    Keeps the length, so offsets in the folded text index the original; only
    precomposed Latin letters fold (Thai or Khmer marks stay).
    """
    return _FOLD(text) if _FOLDABLE.search(text) else text


def _digit_table() -> dict[int, str]:
    """Decimal digits of every script (Thai ๕, Khmer ៥, Burmese ၅...) -> ASCII."""
    table = {}
    for code in range(0x0660, 0x1C00):
        ch = chr(code)
        if unicodedata.category(ch) == "Nd":
            table[code] = str(unicodedata.decimal(ch))
    return table


_DIGIT_TABLE = _digit_table()
_TO_ASCII_DIGITS = CharMap(_DIGIT_TABLE)
_NATIVE_DIGIT = regex.compile(r"(?V1)[\p{Nd}--[0-9]]")


# Characters that do not separate words in the spaceless scan: whitespace and
# the zero-width characters Khmer, Thai and Burmese text uses between words.
_SPACELESS_DROP = regex.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff\u00ad]+")
# Lookup table over the BMP: True for the characters the spaceless scan drops.
_SPACELESS_DROP_LUT = np.array([bool(_SPACELESS_DROP.fullmatch(chr(c))) for c in range(0x10000)], dtype=bool)
_SPACELESS_DROP_LUT[0xD800:0xE000] = False
# Scripts written without spaces between words (or, for Hangul, with
# variable spacing); texts with none of them skip the spaceless scan.
_SPACELESS_SCRIPTS = regex.compile(
    r"[\p{Hangul}\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Khmer}\p{Myanmar}\p{Lao}]"
)


def _without_spaces(text: str) -> tuple[str, np.ndarray]:
    """Text with whitespace and zero-width characters removed, and each kept
    character's original index."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    kept = np.flatnonzero(~_SPACELESS_DROP_LUT[np.minimum(codes, 0xFFFF)])
    return _SPACELESS_DROP.sub("", text), kept


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


# Where a negation stops reaching: the end of a sentence or clause. Before a
# hit, the enumeration comma "、" does not stop it ("不收取押金、保证金" negates
# both); a plain comma does ("No experience needed, tourist visa first"), and so
# does a full stop before a space ("We never ask for a fee. Send payment of $50"),
# not one inside a number or a domain ("1.5", "jobs.com").
_CLAUSE_BEFORE = regex.compile(r"[。．！？!?\n，,;；។៕။၊]|\.(?!\S)")
_CLAUSE_AFTER = regex.compile(r"[。．！？!?\n，,、;；។៕။၊]")
# How far a negation may sit from the hit, in characters.
_CUE_REACH = 48
# Over a list, a negation reaches past commas (negation.yaml): the text before a hit split
# into items at commas (a None separator) and clauses at the other breaks of _CLAUSE_BEFORE
# or a full stop; an item after the hit ends at any of them.
_ITEMS_BEFORE = regex.compile(r"([。．！？!?\n;；។៕။၊]|\.(?!\S))|[，,]")
_ITEM_END = regex.compile(r"[。．！？!?\n;；។៕။၊，,]|\.(?!\S)")
# An item with a number or a currency sign is a term, not a list item ("..., deposit USD 50").
_NOT_AN_ITEM = regex.compile(r"[\p{Nd}\p{Sc}]")
_WORD = regex.compile(r"\w+")


def _cue_key(cue: str, rule: Rule) -> str:
    key = _lower_same_length(unicodedata.normalize("NFKC", cue))
    if rule.fold_diacritics:
        key = fold_diacritics(key)
    return _SPACELESS_DROP.sub("", key) if rule.spacing_insensitive else " ".join(key.split())


@dataclass(frozen=True)
class _ContextCues:
    """Negations around a hit that cancel it ("we never charge a placement fee",
    "보증금 없음"): a cue earlier in the hit's clause (a short one, like "no"
    or "不", only right before it), or, after the hit, one that follows it
    directly (or closes the clause, in scripts without spaces). A cue that
    negates asking or charging also reaches over the commas of a list ("we
    never ask for your PIN, OTP, bank password or any fee"; negation.yaml).

    Only the few hits of rules that have cues are checked, so the scan cost
    does not change; each looks at a bounded stretch of text around it.
    """

    before: tuple[str, ...]
    after: tuple[str, ...]
    spaceless: bool
    folded: bool
    word_boundaries: bool
    scope: NegationScope = dataclass_field(default_factory=NegationScope)
    list_verbs: tuple[str, ...] = ()
    clause_words: tuple[str, ...] = ()  # spaceless files: looked for anywhere in an item
    clause_word_set: frozenset[str] = frozenset()  # other files: one-word clause words, as tokens
    clause_phrases: tuple[str, ...] = ()  # ... and those of several words, as " a b " in " item "
    coordinators: tuple[str, ...] = ()

    @classmethod
    def of(cls, rule: Rule, scope: NegationScope | None = None) -> _ContextCues:
        before = tuple(_cue_key(c, rule) for c in rule.unless_preceded_by)
        after = tuple(_cue_key(c, rule) for c in rule.unless_followed_by)
        scope = scope or NegationScope()

        def keys(words: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(k for k in (_cue_key(w, rule) for w in words) if k))

        clause_words = keys(scope.clause_words)
        return cls(
            before,
            after,
            rule.spacing_insensitive,
            rule.fold_diacritics,
            rule.word_boundaries,
            scope,
            keys(scope.list_verbs),
            clause_words,
            frozenset(w for w in clause_words if " " not in w),
            tuple(f" {w} " for w in clause_words if " " in w),
            keys(scope.coordinators),
        )

    def _is_short(self, cue: str) -> bool:
        """A short cue ("no", "ko", "不") negates only what follows it directly."""
        return len(cue) <= (1 if self.spaceless else 3)

    def _is_item(self, text: str) -> bool:
        """`text` (one comma-separated piece, in the cue view) reads as a list item, not a new clause."""
        if _NOT_AN_ITEM.search(text):
            return False
        view = self._view(text).strip()
        if self.spaceless:
            return len(view) <= self.scope.max_item_chars and not any(word in view for word in self.clause_words)
        if len(view.split()) > self.scope.max_item_words:
            return False
        tokens = _WORD.findall(view)
        if self.clause_word_set.intersection(tokens):
            return False
        joined = f" {' '.join(tokens)} "
        return not any(phrase in joined for phrase in self.clause_phrases)

    def _ends_item(self, rest: str) -> bool:
        """The text after a hit, up to the next break, ends the hit's item: nothing, or a coordinator
        and more items ("... visa fee or medical fee"), not more words about it ("deposit on arrival")."""
        view = self._view(rest).strip()
        if not view:
            return True
        return self._is_item(rest) and any(view.startswith(c) and self._has_word(view[: len(c) + 1], c) for c in self.coordinators)

    def _heads_a_list(self, head: str) -> bool:
        """`head` (a clause, in the cue view) negates asking or charging: a long cue, then (or in it)
        a verb of negation.yaml's `list_verbs` ("we never ask for your PIN", "hindi kami naniningil ng")."""
        for cue in self.before:
            if self._is_short(cue):
                continue
            at = self._find_word(head, cue)
            if at != -1 and any(self._has_word(head[at:], verb) for verb in self.list_verbs):
                return True
        return False

    def _negated_list(self, lowered: str, start: int, end: int) -> bool:
        """A cue that negates asking or charging reaches the hit over a list: every comma-separated
        piece from the cue's clause to the hit, and the hit's own item up to the next break, reads
        as an item."""
        scope = self.scope
        if not scope.list_reach or not scope.max_items or not self.list_verbs:
            return False
        window = lowered[max(0, start - scope.list_reach) : start]
        seen = self._view(window)
        if not any(cue in seen for cue in self.before if not self._is_short(cue)):
            return False  # no cue that could head a list (the common case: one scan, no split)
        parts = _ITEMS_BEFORE.split(window)
        pieces, breaks = parts[0::2], parts[1::2]
        if not breaks or breaks[-1] is not None:
            return False  # no comma before the hit in its clause: nothing to carry the cue over
        after = lowered[end : end + _CUE_REACH]
        item_end = _ITEM_END.search(after)
        if item_end is None and end + _CUE_REACH < len(lowered):
            return False  # the hit's item runs on: a clause, not an item
        rest = after[: item_end.start()] if item_end else after
        if not self._is_item(pieces[-1]) or not self._ends_item(rest):
            return False
        for k in range(len(pieces) - 2, max(-1, len(pieces) - 2 - scope.max_items), -1):
            if self._heads_a_list(self._view(pieces[k])):
                return True
            if k == 0 or breaks[k - 1] is not None or not self._is_item(pieces[k]):
                return False  # the list starts here without a cue, or a clause ends before it
        return False

    def _view(self, text: str) -> str:
        text = fold_diacritics(text) if self.folded else text
        return _SPACELESS_DROP.sub("", text) if self.spaceless else " ".join(text.split())

    def _has_word(self, text: str, cue: str) -> bool:
        """`cue` in `text`, as whole words where the rule needs word boundaries."""
        return self._find_word(text, cue) != -1

    def _find_word(self, text: str, cue: str) -> int:
        """Where `cue` first occurs in `text` (as whole words where the rule needs them), or -1."""
        at = text.find(cue)
        while at != -1:
            end = at + len(cue)
            if self.spaceless or not self.word_boundaries or (
                (at == 0 or not _is_word_char(text[at - 1])) and (end == len(text) or not _is_word_char(text[end]))
            ):
                return at
            at = text.find(cue, at + 1)
        return -1

    def vetoes(self, lowered: str, start: int, end: int) -> bool:
        """True when a negation cue governs the hit."""
        if self.before:
            clause = _CLAUSE_BEFORE.split(lowered[max(0, start - _CUE_REACH) : start])[-1]
            left = self._view(clause)
            for cue in self.before:
                if self._is_short(cue):
                    if left.endswith(cue) and self._has_word(left[-len(cue) - 1 :], cue):
                        return True
                elif self._has_word(left, cue):
                    return True
            if self._negated_list(lowered, start, end):
                return True
        if self.after:
            clause = _CLAUSE_AFTER.split(lowered[end : end + _CUE_REACH], maxsplit=1)[0]
            right = self._view(clause).lstrip(" :：-–")  # "Placement fee: none", "保証金：なし"
            if self.spaceless:
                # Without spaces the negation may close the clause ("登録料・紹介料は一切かかりません").
                return any(cue in right for cue in self.after)
            return any(right.startswith(cue) and self._has_word(right[: len(cue) + 1], cue) for cue in self.after)
        return False


# From this length on, patterns run only around their required words (windows.py):
# below it, one scan of the whole text costs less than finding the stretches
# (benchmarks/bench_windows.py: break-even near 8,000 characters).
WINDOWS_FROM_CHARS = 12_000
# Above this many different first characters, a phrase automaton scans UTF-8 bytes.
_MAX_CHAR_FANOUT = 64


@dataclass
class _PhraseScanner:
    """One Aho-Corasick automaton over one view of the text: as written or
    without spaces, with or without diacritics."""

    spaceless: bool
    folded: bool
    keys: dict[str, set[int]]
    gate: str | None = None  # the rule files' script gate, if any
    automaton: ahocorasick.Automaton = None
    # Skip texts with no character of a spaceless script (when every key has one).
    needs_script: bool = False
    # Scan UTF-8 bytes instead of characters: pyahocorasick walks a node's
    # children one by one, and Chinese or Korean phrases start with hundreds
    # of different characters but only a few different bytes.
    utf8: bool = False

    def build(self) -> None:
        self.utf8 = len({key[0] for key in self.keys}) > _MAX_CHAR_FANOUT
        self.automaton = ahocorasick.Automaton()
        for key, indices in self.keys.items():
            word = key.encode("utf-8").decode("latin-1") if self.utf8 else key
            self.automaton.add_word(word, (len(word), tuple(sorted(indices))))
        self.automaton.make_automaton()
        self.needs_script = self.spaceless and all(_SPACELESS_SCRIPTS.search(k) for k in self.keys)

    def hits(self, scanned: str) -> Iterator[tuple[int, int, tuple[int, ...]]]:
        """(start, end, rule indices) of every phrase in `scanned`, in its character offsets."""
        if not self.utf8:
            for end_index, (length, indices) in self.automaton.iter(scanned):
                yield end_index - length + 1, end_index + 1, indices
            return
        encoded = scanned.encode("utf-8")
        char_of_byte = np.cumsum((np.frombuffer(encoded, dtype=np.uint8) & 0xC0) != 0x80) - 1
        for end_index, (length, indices) in self.automaton.iter(encoded.decode("latin-1")):
            yield int(char_of_byte[end_index - length + 1]), int(char_of_byte[end_index]) + 1, indices


class RedFlagEngine:
    """Compiled rules; thread-safe to share (matching keeps no state)."""

    def __init__(self, ruleset: RuleSet, prefilter: bool = True, windows_from_chars: int | None = WINDOWS_FROM_CHARS) -> None:
        """`prefilter=False` runs every pattern on every text, as written (the
        reference the tests compare the fast path against). On texts of at least
        `windows_from_chars` characters, patterns run only around their required
        words (windows.py; None: never)."""
        self.windows_from_chars = windows_from_chars if prefilter else None
        self.ruleset = ruleset
        self.rules = ruleset.rules
        # One automaton per view of the text and per script gate: a small
        # automaton per script keeps the root's fan-out small (pyahocorasick
        # walks a node's children linearly) and is skipped when its script
        # is absent.
        scanners: dict[tuple[bool, bool, str | None], _PhraseScanner] = {}
        glued: list[tuple[_PhraseScanner, str, int]] = []
        for index, rule in enumerate(self.rules):
            gate = rule.script_gate.pattern if rule.script_gate else None
            scanner = scanners.setdefault(
                (rule.spacing_insensitive, rule.fold_diacritics, gate),
                _PhraseScanner(spaceless=rule.spacing_insensitive, folded=rule.fold_diacritics, keys={}, gate=gate),
            )
            for phrase in rule.phrases:
                key = _lower_same_length(unicodedata.normalize("NFKC", phrase))
                if rule.fold_diacritics:
                    key = fold_diacritics(key)
                if rule.spacing_insensitive:
                    key = _SPACELESS_DROP.sub("", key)
                scanner.keys.setdefault(key, set()).add(index)
                if rule.word_boundaries and not rule.spacing_insensitive and " " in key:
                    glued.append((scanner, key.replace(" ", ""), index))
        # A multi-word phrase also matches as one glued word: the space replaced by an invisible
        # character ("no\u200cexperience", read as "noexperience") or left out ("freeflights").
        # Whole words only, and never where the glued form is another rule's phrase.
        for scanner, key, index in glued:
            if key not in scanner.keys or scanner.keys[key] == {index}:
                scanner.keys.setdefault(key, set()).add(index)
        self._scanners = [s for s in scanners.values() if s.keys]
        for scanner in self._scanners:
            scanner.build()
        self._context_cues = {
            i: _ContextCues.of(r, ruleset.negation)
            for i, r in enumerate(self.rules)
            if r.unless_preceded_by or r.unless_followed_by
        }
        # Patterns run only when one of their required words occurs (see
        # prefilter.py); those without such words always run. Patterns of a
        # fold_diacritics file see the text without diacritics, and every
        # pattern sees ASCII digits (match_text).
        self._patterns: list[tuple[int, regex.Pattern]] = []
        self._reach: list[MatchReach | None] = []
        self._always: list[int] = []
        triggers: dict[str, set[int]] = {}
        for i, rule in enumerate(self.rules):
            for pattern in rule.patterns:
                pieces = split_leading_alternation(pattern.pattern) if prefilter else None
                for piece in [regex.compile(p, pattern.flags) for p in pieces] if pieces else [pattern]:
                    k = len(self._patterns)
                    self._patterns.append((i, piece))
                    words = required_literals(piece.pattern) if prefilter else None
                    self._reach.append(match_reach(piece.pattern) if words else None)
                    if words is None:
                        self._always.append(k)
                    for word in words or ():
                        triggers.setdefault(fold_diacritics(word), set()).add(k)
        self._triggers = ahocorasick.Automaton()
        for word, ks in triggers.items():
            self._triggers.add_word(word, (len(word), tuple(ks)))
        if triggers:
            self._triggers.make_automaton()
        # One gate per file with `scripts`; rules of a closed gate are skipped.
        self._gates = sorted({r.script_gate.pattern: r.script_gate for r in self.rules if r.script_gate}.items())
        self._gate_of = [r.script_gate.pattern if r.script_gate else None for r in self.rules]
        self._any_gate = regex.compile("|".join(key for key, _gate in self._gates)) if self._gates else None

    def match_text(self, text: str) -> list[tuple[Rule, int, int]]:
        """(rule, start, end) hits in clean text; offsets index `text`."""
        hits: set[tuple[int, int, int]] = set()
        closed = self._closed_gates(text)
        lowered = _lower_same_length(text)
        # Phrases read across a line break ("No<br>experience needed" is one phrase on two lines).
        phrase_text = lowered.replace("\n", " ")
        # Patterns see ASCII digits whatever the script ("១៨០០០" reads "18000").
        pattern_text = _TO_ASCII_DIGITS(text) if _NATIVE_DIGIT.search(text) else text
        folded_text = fold_diacritics(pattern_text)
        views: dict[tuple[bool, bool], tuple[str, np.ndarray | None]] = {}
        has_script: bool | None = None
        for scanner in self._scanners:
            if scanner.gate in closed:
                continue
            if scanner.needs_script:
                if has_script is None:
                    has_script = bool(_SPACELESS_SCRIPTS.search(text))
                if not has_script:
                    continue
            view = (scanner.spaceless, scanner.folded)
            if view not in views:
                base = fold_diacritics(phrase_text) if scanner.folded else phrase_text
                views[view] = _without_spaces(base) if scanner.spaceless else (base, None)
            scanned, positions = views[view]
            for start, end, indices in scanner.hits(scanned):
                if positions is not None:
                    start, end = int(positions[start]), int(positions[end - 1]) + 1
                for i in indices:
                    if self.rules[i].word_boundaries and not scanner.spaceless and not self._at_word_bounds(scanned, start, end):
                        continue
                    hits.add((i, start, end))
        words = self._words_found(folded_text)
        runs: dict[bool, TextRuns] = {}
        for k in sorted(self._always + list(words)):
            i, pattern = self._patterns[k]
            if closed and self._gate_of[i] in closed:
                continue
            folds = self.rules[i].fold_diacritics
            target = folded_text if folds else pattern_text
            reach = self._reach[k]
            if reach is None or k not in words or self.windows_from_chars is None or len(target) < self.windows_from_chars:
                ranges = [(0, len(target), len(target))]
            else:
                ranges = scan_ranges([p for places in words[k] for p in places], reach, runs.setdefault(folds, TextRuns(target)), pattern.flags)
            try:
                for first, last, read_to in ranges:
                    # Under a scoring budget (budget.py), no pattern may run past it.
                    for m in pattern.finditer(target, first, read_to, timeout=budget.remaining()):
                        if m.start() >= last:
                            break
                        if m.end() > m.start():
                            hits.add((i, m.start(), m.end()))
            except TimeoutError:
                raise budget.exceeded() from None
        if self._context_cues:
            hits = {h for h in hits if h[0] not in self._context_cues or not self._context_cues[h[0]].vetoes(lowered, h[1], h[2])}
        return [(self.rules[i], s, e) for i, s, e in _drop_nested(hits)]

    def _closed_gates(self, text: str) -> set[str]:
        """Script gates whose script does not occur in the text."""
        if self._any_gate is None:
            return set()
        if not self._any_gate.search(text):
            return {key for key, _gate in self._gates}
        return {key for key, gate in self._gates if not gate.search(text)}

    def _words_found(self, folded_text: str) -> dict[int, list[list[tuple[int, int]]]]:
        """For each pattern with required words, where its words occur in the text, as
        lists of [a, b) (looked up case- and diacritic-insensitively, so never too few)."""
        if not len(self._triggers):
            return {}
        by_word: dict[tuple[int, ...], list[tuple[int, int]]] = {}
        for end, (length, ks) in self._triggers.iter(_lower_same_length(folded_text)):
            by_word.setdefault(ks, []).append((end + 1 - length, end + 1))
        found: dict[int, list[list[tuple[int, int]]]] = {}
        for ks, places in by_word.items():
            for k in ks:
                found.setdefault(k, []).append(places)
        return found

    @staticmethod
    def _at_word_bounds(text: str, start: int, end: int) -> bool:
        inside_left = start > 0 and _is_word_char(text[start]) and _is_word_char(text[start - 1])
        inside_right = end < len(text) and _is_word_char(text[end - 1]) and _is_word_char(text[end])
        return not (inside_left or inside_right)


@lru_cache(maxsize=1)
def default_engine() -> RedFlagEngine:
    """The engine over the packaged rules, built once per process."""
    return RedFlagEngine(load_ruleset())
