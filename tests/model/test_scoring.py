"""model/scoring.py: the one path from listings to ListingScore (prepare once, score, explain)."""

from __future__ import annotations

import pytest

from lurescan.model import features
from lurescan.model.features import prepare
from lurescan.model.scoring import Scorer, decisive_flags, load_scorer

LURE = {
    "title": "Customer service, Cambodia",
    "text": "High salary, no experience needed. Free flights and housing. Contact Telegram @hr_kh_2024 now.",
}
PLAIN = {"title": "Accountant", "text": "Prepare monthly reports and reconcile accounts at our Jakarta office."}
# A documented trafficking indicator (a decisive rule) in an otherwise calm ad.
DECISIVE = {"title": "Office assistant", "text": "The company keeps your passport for the whole contract."}


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def test_prepares_each_listing_once_per_call(scorer, monkeypatch):
    calls = []
    real = features.prepare

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(features, "prepare", counting)
    scorer.score([LURE, PLAIN])
    assert len(calls) == 2


def test_scores_and_probabilities_agree(scorer):
    scores = scorer.score([LURE, PLAIN])
    probs = scorer.scam_probability([LURE, PLAIN])
    assert probs.shape == (2,)
    assert [s.scam_probability for s in scores] == [round(float(p), 6) for p in probs]
    assert scores[0].flagged and not scores[1].flagged
    assert all(0.0 < p < 1.0 for p in probs)
    assert scores[0].threshold == scorer.threshold and scores[0].model_version == scorer.model_version


def test_every_reason_is_a_slice_of_the_field_as_sent(scorer):
    lure = {**LURE, "text": "<b>High</b> salary, no&nbsp;experience needed. Free flights 🌏 and housing. Tele\u200bgram @hr_kh_2024"}
    (score,) = scorer.score([lure])
    assert score.reasons
    for reason in score.reasons:
        assert lure[reason.field][reason.start : reason.end] == reason.text
        assert reason.start_utf16 is not None and reason.end_utf16 >= reason.start_utf16
    severities = [r.severity for r in score.reasons]
    assert severities == sorted(severities, key=["high", "medium", "low"].index)


def test_threshold_override_and_explain_off(scorer):
    (strict,) = scorer.score([LURE], threshold=1.0)
    assert not strict.flagged and strict.threshold == 1.0
    (quiet,) = scorer.score([LURE], explain=False)
    assert quiet.reasons == [] and quiet.flagged


def test_a_decisive_rule_flags_a_listing_below_the_threshold(scorer):
    (score,) = scorer.score([DECISIVE], threshold=1.0)
    assert score.flagged and score.risk_level == "high"
    assert score.decided_by is not None and score.decided_by.decisive
    assert DECISIVE[score.decided_by.field][score.decided_by.start : score.decided_by.end] == score.decided_by.text
    assert decisive_flags([prepare(DECISIVE), prepare(PLAIN)]).tolist() == [True, False]


def test_scored_ranges_and_dropped_content(scorer):
    long_text = "Ordinary duties at the office. " * 400 + "Contact Telegram @hr_kh_2024"
    scorer.max_field_chars = 2000
    try:
        (score,) = scorer.score([{"text": long_text}])
    finally:
        scorer.max_field_chars = None
    assert score.content_dropped
    head, tail = score.scored_ranges
    assert head.start == 0 and tail.end == len(long_text) and head.end < tail.start
    assert any(r.text == "Telegram @hr_kh_2024" for r in score.reasons)
    (whole,) = scorer.score([{"text": long_text}])
    assert not whole.content_dropped and [(r.start, r.end) for r in whole.scored_ranges] == [(0, len(long_text))]


def test_nothing_in_nothing_out(scorer):
    assert scorer.score([]) == [] and scorer.scam_probability([]).shape == (0,)


def test_language_given_or_detected(scorer):
    given, detected = scorer.score([{**PLAIN, "language": "id"}, {"text": "招聘客服，包吃包住，高薪，联系飞机 @hr_kh"}])
    assert given.language == "id" and detected.language == "zh"
