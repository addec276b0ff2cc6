"""Realistic ads per language (tests/fixtures/redflags/<lang>.yaml).

Scam ads must raise the expected flags with spans that slice the field
exactly as the caller sent it (HTML, full-width, no diacritics, no spaces);
legitimate ads that contain trigger words must stay weak or be weighed by
mitigating flags.
"""

from __future__ import annotations

import pytest
from redflag_fixtures import FIXTURE_ADS, listing_of, raw_matches

from lurescan.model.features import prepare
from lurescan.model.reasons import red_flag_reasons
from lurescan.model.redflags.engine import default_engine
from lurescan.model.redflags.rules import SEVERITY_LEVELS


@pytest.fixture(scope="module")
def engine():
    return default_engine()


SCAM_ADS = [ad for ad in FIXTURE_ADS if ad["kind"] == "scam"]
LEGIT_ADS = [ad for ad in FIXTURE_ADS if ad["kind"] == "legit"]


def _ids(ads: list[dict]) -> list[str]:
    return [ad["name"] for ad in ads]


def test_fixtures_cover_every_language_with_both_kinds() -> None:
    langs = {ad["lang"] for ad in FIXTURE_ADS}
    for lang in langs:
        kinds = {ad["kind"] for ad in FIXTURE_ADS if ad["lang"] == lang}
        assert kinds == {"scam", "legit"}, f"{lang}: fixtures need scam and legit ads, have {kinds}"
    assert {"en", "ko", "zh", "ja", "vi", "th", "id", "ms", "tl", "km", "my"} <= langs
    assert len({ad["name"] for ad in FIXTURE_ADS}) == len(FIXTURE_ADS), "fixture names must be unique"


@pytest.mark.parametrize("ad", FIXTURE_ADS, ids=_ids(FIXTURE_ADS))
def test_every_span_slices_the_raw_field(engine, ad) -> None:
    listing = listing_of(ad)
    prepared = prepare(listing, engine)
    for match in prepared.matches:
        assert prepared.clean_fields[match.field][match.start : match.end] == match.text, match
        assert prepared.raw_map(match.field).text == prepared.clean_fields[match.field]
    for match in raw_matches(listing, engine):
        assert match.text.strip() and 0 <= match.start < match.end <= len(getattr(listing, match.field)), match
    # No risk flag is lost on the way to a reason.
    reasons = red_flag_reasons(prepared, max_reasons=10_000)
    assert len(reasons) == sum(m.kind == "risk" for m in prepared.matches)


@pytest.mark.parametrize("ad", SCAM_ADS, ids=_ids(SCAM_ADS))
def test_scam_ad_raises_expected_flags(engine, ad) -> None:
    listing = listing_of(ad)
    matches = raw_matches(listing, engine)
    default_field = "text" if "text" in ad["listing"] else next(iter(ad["listing"]))
    for want in ad["expect"]:
        field = want.get("field", default_field)
        found = [
            m
            for m in matches
            if m.category == want["category"]
            and m.field == field
            and m.text == want["text"]
            and ("rule" not in want or m.rule_id == want["rule"])
        ]
        seen = sorted({(m.category, m.rule_id, m.field, m.text) for m in matches})
        assert found, f"{ad['name']}: no {want} among {seen}"


@pytest.mark.parametrize("ad", LEGIT_ADS, ids=_ids(LEGIT_ADS))
def test_legit_ad_is_weak_or_mitigated(engine, ad) -> None:
    assert "max_risk_severity" in ad or "expect_mitigating" in ad, f"{ad['name']}: says nothing to check"
    matches = prepare(listing_of(ad), engine).matches
    if "max_risk_severity" in ad:
        limit = SEVERITY_LEVELS[ad["max_risk_severity"]]
        too_strong = [(m.rule_id, m.severity, m.text) for m in matches if m.kind == "risk" and SEVERITY_LEVELS[m.severity] > limit]
        assert not too_strong, f"{ad['name']}: risk flags above {ad['max_risk_severity']}: {too_strong}"
    fired = {m.category for m in matches if m.kind == "mitigating"}
    missing = set(ad.get("expect_mitigating", [])) - fired
    assert not missing, f"{ad['name']}: mitigating categories not found: {missing} (found {fired})"


@pytest.mark.parametrize("ad", LEGIT_ADS, ids=_ids(LEGIT_ADS))
def test_legit_ad_has_no_high_severity_secrecy_documents_or_visa(engine, ad) -> None:
    """The flags reserved for compounds must not fire on a legitimate ad."""
    reserved = {"secrecy", "documents_surrendered", "visa_irregular"}
    hits = [(m.rule_id, m.text) for m in prepare(listing_of(ad), engine).matches if m.category in reserved]
    assert not hits, f"{ad['name']}: {hits}"
