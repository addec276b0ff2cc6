"""A bad rule file fails loading with a message that names the file and the
rule, so whoever edited it can fix it without reading Python."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from lurescan.model.redflags.rules import RuleFileError, default_categories_path, load_ruleset

GOOD_RULE = """
  - id: {id}
    category: urgency
    severity: low
    explanation: Hiring urgency for the test.
    phrases: [urgent hiring]
    examples: ["urgent hiring now"]
"""


def _rules_dir(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    """A rules folder with the given files and a copy of the real categories."""
    rules = tmp_path / "rules"
    rules.mkdir()
    categories = tmp_path / "categories.yaml"
    shutil.copy(default_categories_path(), categories)
    for name, body in files.items():
        (rules / name).write_text(textwrap.dedent(body), encoding="utf-8")
    return rules, categories


def _header(language: str = "xx") -> str:
    return f"language: {language}\nword_boundaries: true\nrules:\n"


def _load_error(tmp_path: Path, files: dict[str, str]) -> str:
    rules, categories = _rules_dir(tmp_path, files)
    with pytest.raises(RuleFileError) as info:
        load_ruleset(rules, categories)
    return str(info.value)


def test_good_files_load(tmp_path) -> None:
    rules, categories = _rules_dir(tmp_path, {"xx.yaml": _header() + GOOD_RULE.format(id="xx.urgent.one")})
    ruleset = load_ruleset(rules, categories)
    assert [r.id for r in ruleset.rules] == ["xx.urgent.one"]


def test_unknown_category_names_file_and_rule(tmp_path) -> None:
    body = _header() + GOOD_RULE.format(id="xx.bad.category").replace("category: urgency", "category: too_good_to_be_true")
    message = _load_error(tmp_path, {"xx.yaml": body})
    assert "xx.yaml" in message and "xx.bad.category" in message and "too_good_to_be_true" in message


def test_bad_regex_names_file_and_rule(tmp_path) -> None:
    body = _header() + GOOD_RULE.format(id="xx.bad.regex") + "    patterns: ['salary (\\d+']\n"
    message = _load_error(tmp_path, {"xx.yaml": body})
    assert "xx.yaml" in message and "xx.bad.regex" in message and "bad regex" in message


def test_regex_matching_empty_string_is_refused(tmp_path) -> None:
    body = _header() + GOOD_RULE.format(id="xx.empty.regex") + "    patterns: ['\\d*']\n"
    message = _load_error(tmp_path, {"xx.yaml": body})
    assert "xx.yaml" in message and "xx.empty.regex" in message and "empty string" in message


def test_duplicate_id_across_files_names_both_files_and_the_rule(tmp_path) -> None:
    files = {
        "aa.yaml": _header("aa") + GOOD_RULE.format(id="xx.urgent.same"),
        "bb.yaml": _header("bb") + GOOD_RULE.format(id="xx.urgent.same"),
    }
    message = _load_error(tmp_path, files)
    assert "bb.yaml" in message and "aa.yaml" in message and "xx.urgent.same" in message and "duplicate" in message


@pytest.mark.parametrize("field", ["category", "severity", "explanation"])
def test_missing_field_names_file_and_rule(tmp_path, field) -> None:
    lines = [line for line in GOOD_RULE.format(id="xx.missing.field").splitlines() if not line.strip().startswith(field)]
    message = _load_error(tmp_path, {"xx.yaml": _header() + "\n".join(lines) + "\n"})
    assert "xx.yaml" in message and "xx.missing.field" in message and field in message


def test_rule_without_phrases_or_patterns_is_refused(tmp_path) -> None:
    body = _header() + GOOD_RULE.format(id="xx.no.match").replace("    phrases: [urgent hiring]\n", "")
    message = _load_error(tmp_path, {"xx.yaml": body})
    assert "xx.yaml" in message and "xx.no.match" in message


def test_yaml_boolean_phrase_is_refused(tmp_path) -> None:
    """YAML reads a bare `no` as false: the rule must say so, not match 'False'."""
    body = _header() + GOOD_RULE.format(id="xx.yaml.bool") + "    unless_preceded_by: [no, zero]\n"
    message = _load_error(tmp_path, {"xx.yaml": body})
    assert "xx.yaml" in message and "xx.yaml.bool" in message


def test_unknown_script_is_refused(tmp_path) -> None:
    body = _header().replace("rules:", "scripts: [Klingon]\nrules:") + GOOD_RULE.format(id="xx.urgent.one")
    message = _load_error(tmp_path, {"xx.yaml": body})
    assert "xx.yaml" in message and "Klingon" in message


def test_unknown_category_in_categories_file_kind(tmp_path) -> None:
    rules, categories = _rules_dir(tmp_path, {"xx.yaml": _header() + GOOD_RULE.format(id="xx.urgent.one")})
    categories.write_text("categories:\n  urgency:\n    kind: sometimes\n    description: x\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match="categories.yaml.*urgency"):
        load_ruleset(rules, categories)


def test_empty_rules_folder_is_refused(tmp_path) -> None:
    rules, categories = _rules_dir(tmp_path, {})
    with pytest.raises(RuleFileError, match="no rule files"):
        load_ruleset(rules, categories)


def test_fingerprint_changes_with_any_rule_file(tmp_path) -> None:
    rules, categories = _rules_dir(tmp_path, {"xx.yaml": _header() + GOOD_RULE.format(id="xx.urgent.one")})
    before = load_ruleset(rules, categories).fingerprint
    (rules / "xx.yaml").write_text(_header() + GOOD_RULE.format(id="xx.urgent.two"), encoding="utf-8")
    assert load_ruleset(rules, categories).fingerprint != before


def test_negation_scope_is_loaded_bounded_and_fingerprinted(tmp_path) -> None:
    """negation.yaml (how far a cue reaches over a list) is data: validated, bounded (linear-time
    matching), and part of the ruleset fingerprint, since it changes what the rules find."""
    from lurescan.model.redflags.rules import default_negation_path

    rules, categories = _rules_dir(tmp_path, {"xx.yaml": _header() + GOOD_RULE.format(id="xx.urgent.one")})
    negation = tmp_path / "negation.yaml"
    shutil.copy(default_negation_path(), negation)
    ruleset = load_ruleset(rules, categories, negation)
    assert ruleset.negation.list_reach > 0 and "but" in ruleset.negation.clause_words and "or" in ruleset.negation.coordinators
    assert load_ruleset(rules, categories).fingerprint == ruleset.fingerprint
    negation.write_text(negation.read_text("utf-8").replace("max_items: 8", "max_items: 3"), encoding="utf-8")
    assert load_ruleset(rules, categories, negation).fingerprint != ruleset.fingerprint
    negation.write_text("list_reach: 100000\nmax_items: 8\nmax_item_words: 5\nmax_item_chars: 24\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match="negation.yaml.*list_reach"):
        load_ruleset(rules, categories, negation)
    negation.write_text("list_reach: 100\nmax_items: 8\nmax_item_words: 5\nmax_item_chars: 24\nlist_words: []\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match="negation.yaml"):
        load_ruleset(rules, categories, negation)
