"""The red-flag feature vector: its layout depends on categories.yaml only,
and it separates one weak lure from a combination of lures."""

from __future__ import annotations

import dataclasses

import numpy as np
from redflag_fixtures import FIXTURE_ADS, listing_of

from lurescan.model.features import prepare
from lurescan.model.listing import JobListing
from lurescan.model.redflags.engine import default_engine
from lurescan.model.redflags.features import RedFlagFeatures
from lurescan.model.redflags.rules import load_ruleset


def _features() -> RedFlagFeatures:
    return RedFlagFeatures(default_engine().ruleset)


def test_layout_depends_on_categories_only() -> None:
    full = load_ruleset()
    fewer = dataclasses.replace(full, rules=full.rules[:5])
    assert RedFlagFeatures(full).names == RedFlagFeatures(fewer).names
    n_risk, n_mit, n_ctx = len(full.risk_categories), len(full.mitigating_categories), len(full.context_features)
    assert len(RedFlagFeatures(full).names) == 3 * n_risk + n_mit + n_risk * (n_risk - 1) // 2 + 6 + n_ctx
    assert len(set(RedFlagFeatures(full).names)) == len(RedFlagFeatures(full).names)


def test_a_model_trained_with_fewer_categories_keeps_its_columns() -> None:
    """Categories added to categories.yaml after a model was trained are ignored by that model."""
    ruleset = load_ruleset()
    old = RedFlagFeatures(ruleset, risk=ruleset.risk_categories[:4], mitigating=ruleset.mitigating_categories[:2], context=[])
    rebuilt = RedFlagFeatures.from_names(ruleset, old.names)
    assert rebuilt.names == old.names and rebuilt.risk == ruleset.risk_categories[:4]
    ad = next(a for a in FIXTURE_ADS if a["name"] == "km_sihanoukville_online_job")
    matches = prepare(listing_of(ad), default_engine()).matches
    assert rebuilt.vector(matches).shape == (len(old.names),)
    assert np.array_equal(rebuilt.vector(matches), old.vector(matches))
    full = RedFlagFeatures(ruleset)
    kept = [full.names.index(n) for n in old.names if not n.startswith("rf:n_") and "&" not in n and n.count(":") <= 1]
    assert kept


def test_vector_shape_and_empty_input() -> None:
    features = _features()
    assert features.vector([]).shape == (len(features.names),)
    assert not features.vector([]).any()
    assert features.matrix([]).shape == (0, len(features.names))


def _vector_of(name: str) -> dict[str, float]:
    ad = next(a for a in FIXTURE_ADS if a["name"] == name)
    features = _features()
    vector = features.vector(prepare(listing_of(ad), default_engine()).matches)
    return dict(zip(features.names, vector))


def test_combination_of_lures_without_mitigation_is_flagged() -> None:
    scam = _vector_of("en_recruiter_chat_passport_secrecy")
    assert scam["rf:risk_without_mitigation"] == 1.0
    assert scam["rf:max_risk_severity"] == 1.0
    assert scam["rf:secrecy&documents_surrendered"] == 1.0
    assert scam["rf:only_weak_risk"] == 0.0


def test_one_weak_lure_with_an_address_stays_weak() -> None:
    shop = _vector_of("en_shop_whatsapp_full_address")
    assert shop["rf:only_weak_risk"] == 1.0
    assert shop["rf:risk_without_mitigation"] == 0.0
    assert shop["rf:company_identity"] == 1.0


def test_repeated_phrase_counts_once() -> None:
    engine = default_engine()
    features = _features()
    once = features.vector(prepare(JobListing(text="Telegram"), engine).matches)
    twice = features.vector(prepare(JobListing(title="Telegram", text="Telegram"), engine).matches)
    assert np.array_equal(once, twice)
