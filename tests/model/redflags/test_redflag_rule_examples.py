"""Every rule carries its own examples and counter-examples; they are the
rule's specification, so each must behave as the rule file says."""

from __future__ import annotations

import unicodedata

import pytest

from lurescan.model.redflags.engine import _SPACELESS_DROP, default_engine, fold_diacritics
from lurescan.model.redflags.rules import load_ruleset
from lurescan.model.textnorm import normalize

RULESET = load_ruleset()
RULES = RULESET.rules


def _rule_ids_hit(text: str) -> set[str]:
    return {rule.id for rule, _start, _end in default_engine().match_text(normalize(text).text)}


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_examples_match_and_counter_examples_do_not(rule) -> None:
    assert rule.examples, f"{rule.id} ({rule.source_file}) has no examples"
    for example in rule.examples:
        assert rule.id in _rule_ids_hit(example), f"{rule.id}: example does not match: {example!r}"
    for counter in rule.counter_examples:
        assert rule.id not in _rule_ids_hit(counter), f"{rule.id}: counter-example matches: {counter!r}"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_id_names_its_file_and_explanation_is_short(rule) -> None:
    assert rule.id.split(".")[0] == rule.source_file.removesuffix(".yaml"), rule.id
    assert 10 <= len(rule.explanation) <= 200, f"{rule.id}: explanation should be one short sentence"
    assert rule.explanation.isascii(), f"{rule.id}: explanations are in English"


def test_no_phrase_belongs_to_two_rules() -> None:
    """Every rule runs on every text, so a phrase listed twice would count twice."""
    owner: dict[str, str] = {}
    for rule in RULES:
        for phrase in rule.phrases:
            key = unicodedata.normalize("NFKC", phrase).lower()
            key = _SPACELESS_DROP.sub("", fold_diacritics(key))
            assert owner.setdefault(key, rule.id) == rule.id, f"{phrase!r} is in {owner[key]} and {rule.id}"


def test_every_category_has_rules_in_every_language() -> None:
    """Each language file covers each risk and mitigating category, except
    where the category makes no sense in that file (listed here on purpose).
    Context categories (place names, webmail addresses) may live in any.yaml."""
    not_applicable = {
        # Malaysian ads name no government programme of their own; G-to-G and
        # SSW wording is shared with Indonesian (id.yaml) and English.
        ("ms", "official_programme"),
        # Philippine agencies write licences and registrations in English (en.yaml, any.yaml).
        ("tl", "licensed_recruiter"),
        ("tl", "company_identity"),
        # Registration numbers in these ads follow the formats of any.yaml.
        ("km", "company_identity"),
        ("my", "company_identity"),
    }
    langs = sorted({r.source_file.removesuffix(".yaml") for r in RULES} - {"any"})
    missing = []
    for lang in langs:
        have = {r.category for r in RULES if r.source_file == f"{lang}.yaml"}
        for category in RULESET.risk_categories + RULESET.mitigating_categories:
            if category not in have and (lang, category) not in not_applicable:
                missing.append((lang, category))
    assert not missing, f"categories without rules: {missing}"


def test_weak_lures_are_low_and_compound_markers_are_high() -> None:
    """Severity policy: compound hubs, passport surrender and secrecy are high
    in every language; plain room-and-board offers are low."""
    by_id = {r.id: r for r in RULES}
    for rule in RULES:
        if rule.category in ("secrecy", "documents_surrendered"):
            assert rule.severity == "high", rule.id
        if rule.id.endswith(".room_board"):
            assert rule.severity == "low", rule.id
    for hub in [r for r in by_id if r.endswith("compound_hub")]:
        assert by_id[hub].severity == "high", hub
