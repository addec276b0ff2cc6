"""The destination is context: a place name is a reason only with cross-border
evidence and lure signs, never from an employer's own address, and never for
an ad on a board of the same country for readers there."""

from __future__ import annotations

import pytest

from lurescan.model.features import prepare
from lurescan.model.listing import JobListing
from lurescan.model.redflags.destination import default_destinations
from lurescan.model.redflags.engine import default_engine


def _destination_reasons(**fields) -> list:
    return [m for m in prepare(JobListing(**fields), default_engine()).matches if m.category == "high_risk_destination" and m.rule_id.split(".")[1] in {"destination", "dest"} and m.country]


LURE_VI = (
    "Tuyển nhân viên chăm sóc khách hàng làm việc tại Phnom Penh, lương 1500 USD/tháng, "
    "không cần kinh nghiệm, bao vé máy bay và chỗ ở, liên hệ Telegram @hr_pp_vn"
)


def test_lure_for_foreign_jobseekers_names_the_destination() -> None:
    reasons = _destination_reasons(text=LURE_VI)
    assert reasons and reasons[0].text == "Phnom Penh" and reasons[0].country == "KH"
    assert reasons[0].kind == "risk" and reasons[0].scam_kind == "overseas_lure"
    assert "Cambodia" in reasons[0].explanation


def test_local_employer_address_is_never_a_reason() -> None:
    text = (
        "Sales Executive wanted. Salary USD 1,200 per month, no experience needed, free accommodation. "
        "Address: No. 12, Street 310, Phnom Penh. Call 012 345 678."
    )
    assert not _destination_reasons(text=text, language="en")
    assert not _destination_reasons(title="Sales Executive", company="Phnom Penh Bakery Co., Ltd.", text="Salary USD 1,500, no experience, free flights")


def test_khmer_ad_for_work_in_cambodia_is_local() -> None:
    text = "ជ្រើសរើសបុគ្គលិកលក់ ប្រាក់ខែ $800 - $1500 មិនត្រូវការបទពិសោធន៍ ទីតាំង៖ ភ្នំពេញ ក្រុងព្រះសីហនុ"
    assert not _destination_reasons(text=text)


def test_board_country_makes_an_ad_local_and_audience_country_does_not() -> None:
    text = "Customer service, Phnom Penh. Salary $1,500/month, no experience needed, housing provided. Telegram @hr"
    assert _destination_reasons(text=text, language="vi")
    assert not _destination_reasons(text=text, language="vi", board_country="KH")
    assert _destination_reasons(text=text, language="vi", board_country="KH", audience_country="VN")


def test_place_with_cross_border_words_but_no_lure_is_not_a_reason() -> None:
    assert not _destination_reasons(text="Our engineers travel abroad to Phnom Penh twice a year for audits.", language="en")


def test_place_alone_is_context_for_the_classifier() -> None:
    p = prepare({"text": "Barista, Phnom Penh, morning shifts", "language": "en"})
    categories = {m.category for m in p.matches}
    assert "destination" in categories and "high_risk_destination" not in categories


@pytest.mark.parametrize("place,country", [("Sihanoukville", "KH"), ("西港", "KH"), ("妙瓦底", "MM"), ("KK Park", "MM"), ("金三角", "LA"), ("phnompenh", "KH")])
def test_places_know_their_country(place: str, country: str) -> None:
    assert default_destinations().country(place) == country


def test_every_destination_phrase_has_a_country() -> None:
    table = default_destinations()
    missing = [
        (r.id, p)
        for r in default_engine().ruleset.rules
        if r.category == "destination"
        for p in r.phrases
        if table.country(p, r.country) is None
    ]
    assert not missing, missing


def test_camhr_local_ads_carry_no_destination_reason(shared_data) -> None:
    """Issue 13: at most 0.5% of CamHR's legitimate ads carry a destination reason; its real compound ads keep one."""
    import pandas as pd

    frame = pd.read_csv(shared_data / "kh_camhr_jobs" / "kh_camhr_text_label.csv", dtype=str, keep_default_na=False)
    engine = default_engine()
    fields = ["title", "company", "location", "salary", "text"]
    with_reason = [
        any(m.category == "high_risk_destination" for m in prepare(JobListing(**{f: row[f] or None for f in fields}), engine).matches)
        for _, row in frame.iterrows()
    ]
    frame["label"] = frame["label"].astype(int)
    legit = [r for r, label in zip(with_reason, frame["label"]) if label == 0]
    scams = [r for r, label in zip(with_reason, frame["label"]) if label == 1]
    assert len(legit) > 3000 and sum(legit) / len(legit) <= 0.005, sum(legit)
    assert scams and all(scams)
