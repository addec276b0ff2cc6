"""Red-flag rule files: their schema, loading and validation.

Rules are data (YAML under `rules/`), one file per language or per
cross-language theme, so that a moderator or an NGO can add a phrase in Thai
without touching Python. Loading fails on the first bad rule with a message
naming the file and the rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import regex
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import LurescanError

SEVERITY_LEVELS = {"low": 1, "medium": 2, "high": 3}
RULE_FLAGS = regex.IGNORECASE | regex.UNICODE | regex.V0


class RuleFileError(LurescanError):
    """A rule file that cannot be used; the message names the file and rule."""


GENERAL_KIND = "general"


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["risk", "mitigating", "context"]
    description: str
    scam_kind: str | None = Field(default=None, description="Risk categories: the scam kind the sign belongs to, or 'general'.")
    feature: bool = Field(default=True, description="Context categories: whether the classifier sees them.")
    decisive: bool = Field(
        default=False,
        description="Risk categories of documented trafficking indicators: their high-severity rules are decisive unless a rule says otherwise.",
    )


class ScamKind(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z]{2,3}(?:_[a-z]+)?\.[a-z0-9_.]+$")
    category: str
    severity: Literal["low", "medium", "high"]
    explanation: str = Field(min_length=5, description="Short English explanation shown to moderators.")
    phrases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    unless_preceded_by: list[str] = Field(
        default_factory=list,
        description=(
            "Drop a hit when one of these (negations: 'never', '不收取', 'không thu') occurs earlier in the same "
            "clause, within a few words; a short one ('no', '无') only when it comes right before the hit."
        ),
    )
    unless_followed_by: list[str] = Field(
        default_factory=list,
        description=(
            "Drop a hit whose following text starts with one of these ('deposit-free'); in spacing-insensitive "
            "files, one that appears before the clause ends ('보증금 없음', '登録料・紹介料は一切かかりません')."
        ),
    )
    decisive: bool | None = Field(
        default=None,
        description=(
            "A documented trafficking indicator: a listing with a hit is flagged whatever its score (high severity only). "
            "Default: the category's `decisive`, for high-severity rules."
        ),
    )
    country: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="Destination rules: the ISO 3166-1 country the place lies in.",
    )
    examples: list[str] = Field(default_factory=list, description="Texts this rule must match (checked by tests).")
    counter_examples: list[str] = Field(default_factory=list, description="Texts this rule must not match.")

    @field_validator("phrases", "unless_preceded_by", "unless_followed_by")
    @classmethod
    def _non_blank_phrases(cls, phrases: list[str]) -> list[str]:
        for phrase in phrases:
            if not phrase.strip():
                raise ValueError("blank phrase")
        return phrases


class RuleFileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str = Field(description="ISO 639-1 code of the rules' language, or 'any'.")
    word_boundaries: bool = Field(description="Phrases match whole words only (Latin, Cyrillic scripts).")
    spacing_insensitive: bool = Field(
        default=False, description="Phrases also match with spaces added or dropped (Korean, CJK, Thai, Khmer)."
    )
    fold_diacritics: bool = Field(
        default=False, description="Phrases also match typed without diacritics (Vietnamese 'viec nhe luong cao')."
    )
    scripts: list[str] = Field(
        default_factory=list,
        description=(
            "Unicode scripts (Hangul, Han, Thai...); when given, the file's rules run only on texts that contain "
            "a character of one of them, so Korean patterns cost nothing on an English ad."
        ),
    )
    rules: list[RuleSpec]


class NegationScopeSpec(BaseModel):
    """`negation.yaml`: how far a negation cue reaches over a list (see that file)."""

    model_config = ConfigDict(extra="forbid")
    # Bounded, so the work per hit is too (linear-time matching).
    list_reach: int = Field(ge=0, le=400)
    max_items: int = Field(ge=0, le=20)
    max_item_words: int = Field(ge=1, le=12)
    max_item_chars: int = Field(ge=1, le=80)
    list_verbs: dict[str, list[str]] = Field(default_factory=dict)
    clause_words: dict[str, list[str]] = Field(default_factory=dict)
    coordinators: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("list_verbs", "clause_words", "coordinators")
    @classmethod
    def _non_blank_words(cls, groups: dict[str, list[str]]) -> dict[str, list[str]]:
        for words in groups.values():
            for word in words:
                if not word.strip():
                    raise ValueError("blank word")
        return groups


@dataclass(frozen=True)
class NegationScope:
    """How far a negation cue reaches over the commas of a list ("never ask for your PIN, OTP or any fee")."""

    list_reach: int = 0  # 0: a comma always ends a negation's clause
    max_items: int = 0
    max_item_words: int = 1
    max_item_chars: int = 1
    list_verbs: tuple[str, ...] = ()
    clause_words: tuple[str, ...] = ()
    coordinators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A validated rule, with its regexes compiled once."""

    id: str
    category: str
    kind: str
    severity: str
    weight: int
    explanation: str
    phrases: tuple[str, ...]
    patterns: tuple[regex.Pattern, ...]
    word_boundaries: bool
    spacing_insensitive: bool
    fold_diacritics: bool
    source_file: str
    script_gate: regex.Pattern | None  # the file's `scripts` as one character class, or None
    unless_preceded_by: tuple[str, ...]
    unless_followed_by: tuple[str, ...]
    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]
    scam_kind: str | None = None
    decisive: bool = False
    country: str | None = None


@dataclass(frozen=True)
class RuleSet:
    categories: dict[str, Category]
    rules: tuple[Rule, ...]
    fingerprint: str  # sha256 over categories, the negation scope and rule files, recorded in bundles
    files: tuple[str, ...]
    scam_kinds: dict[str, ScamKind] = field(default_factory=dict)
    negation: NegationScope = field(default_factory=NegationScope)

    @property
    def risk_categories(self) -> list[str]:
        return [name for name, c in self.categories.items() if c.kind == "risk"]

    @property
    def mitigating_categories(self) -> list[str]:
        return [name for name, c in self.categories.items() if c.kind == "mitigating"]

    @property
    def context_features(self) -> list[str]:
        """Context categories the classifier sees (presence only)."""
        return [name for name, c in self.categories.items() if c.kind == "context" and c.feature]


def default_rules_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath("rules")))


def default_categories_path() -> Path:
    return Path(str(resources.files(__package__).joinpath("categories.yaml")))


def default_negation_path() -> Path:
    return Path(str(resources.files(__package__).joinpath("negation.yaml")))


def load_negation_scope(path: Path) -> NegationScope:
    data = _read_yaml(path)
    try:
        spec = NegationScopeSpec.model_validate(data)
    except ValidationError as exc:
        raise RuleFileError(f"{path}: {_first_error(exc)}") from exc
    def flat(groups: dict[str, list[str]]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w.strip() for group in groups.values() for w in group))

    return NegationScope(
        spec.list_reach,
        spec.max_items,
        spec.max_item_words,
        spec.max_item_chars,
        flat(spec.list_verbs),
        flat(spec.clause_words),
        flat(spec.coordinators),
    )


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{path}: cannot read YAML: {exc}") from exc


def load_categories(path: Path) -> dict[str, Category]:
    return load_taxonomy(path)[0]


def load_taxonomy(path: Path) -> tuple[dict[str, Category], dict[str, ScamKind]]:
    """The categories and scam kinds of `categories.yaml`, cross-checked."""
    data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise RuleFileError(f"{path}: expected a mapping 'categories: {{name: {{kind, description}}}}'")
    kinds: dict[str, ScamKind] = {}
    for name, spec in (data.get("scam_kinds") or {}).items():
        try:
            kinds[name] = ScamKind.model_validate(spec)
        except ValidationError as exc:
            raise RuleFileError(f"{path}: scam kind '{name}': {_first_error(exc)}") from exc
    out = {}
    for name, spec in data["categories"].items():
        try:
            out[name] = category = Category.model_validate(spec)
        except ValidationError as exc:
            raise RuleFileError(f"{path}: category '{name}': {_first_error(exc)}") from exc
        if category.kind == "risk" and kinds and category.scam_kind not in {*kinds, GENERAL_KIND}:
            raise RuleFileError(
                f"{path}: category '{name}': scam_kind must be one of {', '.join([*kinds, GENERAL_KIND])}, got {category.scam_kind!r}"
            )
        if category.kind != "risk" and (category.scam_kind is not None or category.decisive):
            raise RuleFileError(f"{path}: category '{name}': only risk categories have a scam_kind or are decisive")
    return out, kinds


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else err["msg"]


def _rule_label(raw: object, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return f"rule '{raw['id']}'"
    return f"rule #{index + 1}"


def load_rule_file(path: Path, categories: dict[str, Category]) -> list[Rule]:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise RuleFileError(f"{path}: expected a mapping with 'language', 'word_boundaries' and 'rules'")
    raw_rules = data.get("rules")
    if isinstance(raw_rules, list):
        # Validate rule by rule so the message can name the rule.
        for index, raw in enumerate(raw_rules):
            try:
                RuleSpec.model_validate(raw)
            except ValidationError as exc:
                raise RuleFileError(f"{path}: {_rule_label(raw, index)}: {_first_error(exc)}") from exc
    try:
        spec = RuleFileSpec.model_validate(data)
    except ValidationError as exc:
        raise RuleFileError(f"{path}: {_first_error(exc)}") from exc

    script_gate = None
    if spec.scripts:
        try:
            script_gate = regex.compile("[" + "".join(f"\\p{{Script={name}}}" for name in spec.scripts) + "]")
        except regex.error as exc:
            raise RuleFileError(f"{path}: unknown script in {spec.scripts}: {exc}") from exc
    rules = []
    for r in spec.rules:
        if r.category not in categories:
            raise RuleFileError(
                f"{path}: rule '{r.id}': unknown category '{r.category}' (known: {', '.join(categories)})"
            )
        if not r.phrases and not r.patterns:
            raise RuleFileError(f"{path}: rule '{r.id}': needs at least one phrase or pattern")
        decisive = r.decisive if r.decisive is not None else (categories[r.category].decisive and r.severity == "high")
        if decisive and (r.severity != "high" or categories[r.category].kind != "risk"):
            raise RuleFileError(f"{path}: rule '{r.id}': only a high-severity risk rule can be decisive")
        if r.country and r.category != "destination":
            raise RuleFileError(f"{path}: rule '{r.id}': 'country' belongs on destination rules only")
        compiled = []
        for pattern in r.patterns:
            try:
                compiled.append(regex.compile(pattern, RULE_FLAGS))
            except regex.error as exc:
                raise RuleFileError(f"{path}: rule '{r.id}': bad regex {pattern!r}: {exc}") from exc
            if compiled[-1].search(""):
                raise RuleFileError(f"{path}: rule '{r.id}': regex {pattern!r} matches the empty string")
        rules.append(
            Rule(
                id=r.id,
                category=r.category,
                kind=categories[r.category].kind,
                severity=r.severity,
                weight=SEVERITY_LEVELS[r.severity],
                explanation=r.explanation,
                phrases=tuple(r.phrases),
                patterns=tuple(compiled),
                word_boundaries=spec.word_boundaries,
                spacing_insensitive=spec.spacing_insensitive,
                fold_diacritics=spec.fold_diacritics,
                source_file=path.name,
                script_gate=script_gate,
                unless_preceded_by=tuple(r.unless_preceded_by),
                unless_followed_by=tuple(r.unless_followed_by),
                examples=tuple(r.examples),
                counter_examples=tuple(r.counter_examples),
                scam_kind=categories[r.category].scam_kind,
                decisive=decisive,
                country=r.country,
            )
        )
    return rules


def load_ruleset(
    rules_dir: Path | None = None, categories_path: Path | None = None, negation_path: Path | None = None
) -> RuleSet:
    """Load and validate every `*.yaml` rule file in `rules_dir` (and the negation scope, `negation.yaml`)."""
    rules_dir = Path(rules_dir) if rules_dir else default_rules_dir()
    categories_path = Path(categories_path) if categories_path else default_categories_path()
    negation_path = Path(negation_path) if negation_path else default_negation_path()
    categories, scam_kinds = load_taxonomy(categories_path)
    negation = load_negation_scope(negation_path)
    files = sorted(rules_dir.glob("*.yaml"))
    if not files:
        raise RuleFileError(f"{rules_dir}: no rule files (*.yaml)")
    digest = hashlib.sha256(categories_path.read_bytes())
    digest.update(b"negation.yaml\0" + negation_path.read_bytes())
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        for rule in load_rule_file(path, categories):
            if rule.id in seen:
                raise RuleFileError(f"{path}: rule '{rule.id}': duplicate id (already defined in {seen[rule.id].name})")
            seen[rule.id] = path
            rules.append(rule)
    return RuleSet(
        categories=categories,
        rules=tuple(rules),
        fingerprint=digest.hexdigest(),
        files=tuple(p.name for p in files),
        scam_kinds=scam_kinds,
        negation=negation,
    )
