"""model/reasons.py: every reason's span is a slice of the field as sent, built one way."""

from __future__ import annotations

from lurescan.model.features import prepare
from lurescan.model.reasons import MAX_REASONS, reason_at, red_flag_reasons


def test_reason_at_maps_read_text_offsets_to_the_raw_field():
    raw = "<p>Free&nbsp;flights and <b>Tele</b>gram @hr_kh</p>"
    prepared = prepare({"html": raw})
    clean = prepared.clean_fields["html"]
    start = clean.index("Telegram")
    reason = reason_at(prepared, "html", start, start + len("Telegram"), category="c", severity="low", explanation="e")
    assert reason.text == raw[reason.start : reason.end] == "Tele</b>gram"
    assert reason.field == "html" and reason.category == "c"


def test_red_flag_reasons_are_risk_only_most_severe_first_and_capped():
    text = "Free flights and housing. No experience. Keep it secret from your family. Telegram @hr_kh. " * 10
    prepared = prepare({"title": "Customer service Cambodia", "text": text})
    reasons = red_flag_reasons(prepared)
    assert 0 < len(reasons) <= MAX_REASONS
    risky = [m for m in prepared.matches if m.kind == "risk"]
    assert len(red_flag_reasons(prepared, max_reasons=10_000)) == len(risky)
    order = ["high", "medium", "low"]
    assert [r.severity for r in reasons] == sorted((r.severity for r in reasons), key=order.index)
    assert all(r.rule_id for r in reasons)
    assert not any(r.rule_id == m.rule_id for r in reasons for m in prepared.matches if m.kind != "risk")


def test_the_raw_map_is_built_once_per_field():
    prepared = prepare({"text": "Free flights, Telegram @hr_kh"})
    assert prepared.raw_map("text") is prepared.raw_map("text")
