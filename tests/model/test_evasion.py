"""Invisible characters and look-alike letters do not hide a red flag, and spans still point at the text as sent."""

from __future__ import annotations

import pytest

from lurescan.model.confusables import fold_confusables, fold_table
from lurescan.model.features import prepare
from lurescan.model.reasons import red_flag_reasons
from lurescan.model.textnorm import normalize, quick_normalize

# (raw, rule expected, raw slice its span must cover)
EVASIONS = [
    ("Contact us on Tele\u200bgram @hr_fastjob", "any.contact.messenger_handle", "Tele\u200bgram @hr_fastjob"),
    ("Contact us on Tele\u00adgram @hr_fastjob", "any.contact.messenger_handle", "Tele\u00adgram @hr_fastjob"),
    ("Contact us on \u200fTele\u202egram\u202c @hr_fastjob", "any.contact.messenger_handle", "Tele\u202egram\u202c @hr_fastjob"),
    ("Contact us on T\u2060elegram @hr_fastjob", "any.contact.messenger_handle", "T\u2060elegram @hr_fastjob"),
    # Cyrillic е and а inside a Latin word
    ("Message us on T\u0435l\u0435gr\u0430m @hr_fastjob", "any.contact.messenger_handle", "T\u0435l\u0435gr\u0430m @hr_fastjob"),
    # a Greek omicron
    ("Passp\u03bfrt will be kept by the company", "en.docs.passport_held", "Passp\u03bfrt will be kept by the company"),
    ("Free\u00adflights? No: free flig\u00adhts and visa", "en.travel.flights_visa_paid", "free flig\u00adhts"),
    # The space of a phrase replaced by an invisible character, or left out
    ("No\u200cexperience required", "en.noexp.no_experience", "No\u200cexperience"),
    ("Free\u00adflights and visa", "en.travel.flights_visa_paid", "Free\u00adflights"),
    ("freeflights and visa", "en.travel.flights_visa_paid", "freeflights"),
]


def test_a_glued_phrase_matches_only_as_a_whole_word() -> None:
    hits = prepare({"text": "We hire nonexperienced staff; carefreeflightsim"}).matches
    assert not [h for h in hits if h.rule_id in ("en.noexp.no_experience", "en.travel.flights_visa_paid")]


@pytest.mark.parametrize("raw, rule_id, raw_slice", EVASIONS)
def test_evasion_does_not_hide_the_flag(raw: str, rule_id: str, raw_slice: str) -> None:
    hits = red_flag_reasons(prepare({"text": raw}), max_reasons=100)
    found = [h for h in hits if h.rule_id == rule_id]
    assert found, f"{rule_id} not found in {raw!r}: {[h.rule_id for h in hits]}"
    assert any(h.text == raw_slice == raw[h.start : h.end] for h in found), [h.text for h in found]


@pytest.mark.parametrize("raw, _rule, _slice", EVASIONS)
def test_fast_path_reads_the_same(raw: str, _rule: str, _slice: str) -> None:
    assert quick_normalize(raw) == normalize(raw).text


def test_zero_width_characters_read_as_nothing_but_map_back() -> None:
    norm = normalize("Tele\u200b\u200cgram")
    assert norm.text == "Telegram"
    assert norm.to_raw(0, 8) == (0, 10)


@pytest.mark.parametrize(
    "word",
    ["Телеграм", "Москва", "работа", "Ελλάδα", "πρόσληψη", "Հայաստան"],
)
def test_words_wholly_in_another_script_stay(word: str) -> None:
    assert fold_confusables(word) == word
    assert quick_normalize(f"Job in {word}, apply") == f"Job in {word}, apply"


def test_fold_table_comes_from_the_unicode_data() -> None:
    table = fold_table()
    assert table["\u0430"] == "a" and table["\u0435"] == "e" and table["\u043e"] == "o"  # Cyrillic
    assert table["\u03bf"] == "o"  # Greek omicron
    assert all(len(v) == 1 and v.isascii() for v in table.values())
    assert "a" not in table and "\u00e9" not in table  # Latin letters are never folded
