"""The engine's fast paths (literal prefilters, split alternations, script
gates, spaceless and diacritic-free views) find what the rules say, with spans
in the caller's text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redflag_fixtures import FIXTURE_ADS, listing_of

from lurescan.model.features import prepare
from lurescan.model.reasons import red_flag_reasons
from lurescan.model.redflags.engine import RedFlagEngine, default_engine, fold_diacritics
from lurescan.model.redflags.prefilter import required_literals, split_leading_alternation
from lurescan.model.redflags.rules import load_ruleset
from lurescan.model.textnorm import normalize

CORPUS_DIR = Path(__file__).resolve().parents[3] / "data" / "corpus"


def _test_texts() -> list[str]:
    """Rule examples and counter-examples, fixture ads, and the project corpus when present."""
    texts = []
    for rule in default_engine().rules:
        texts += list(rule.examples) + list(rule.counter_examples)
    for ad in FIXTURE_ADS:
        texts += [value for value in ad["listing"].values() if isinstance(value, str)]
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line).get("text") or "")
    return [normalize(t).text for t in texts if t]


def test_prefilter_never_loses_a_match() -> None:
    """Every hit of the plain engine (every pattern on every text, as written)
    is found, or contained in a longer hit of the same rule, by the fast one."""
    fast = default_engine()
    reference = RedFlagEngine(load_ruleset(), prefilter=False)
    for text in _test_texts():
        fast_hits = [(rule.id, start, end) for rule, start, end in fast.match_text(text)]
        for rule, start, end in reference.match_text(text):
            assert any(
                rid == rule.id and s <= start and end <= e for rid, s, e in fast_hits
            ), f"{rule.id} lost {text[start:end]!r} in {text[:80]!r}"


@pytest.mark.parametrize(
    "pattern, words",
    [
        (r"(?:salary|pay)\s*:?\s*\$\d+", {"salary", "pay"}),
        (r"\bluong cung\s*\d+", {"luong cung"}),
        (r"(?:month|mo\b)", {"mo"}),  # the parser factors the common prefix
        (r"(?:a|b)x", None),  # single letters are not worth a lookup
        (r"\d+\s*(?:usd|\$)", {"usd", "$"}),  # '$' is a rare symbol, worth a lookup on its own
        (r"[\w.+-]+@example\.com", {"@example.com"}),
        (r"(?:foo)?bar", {"bar"}),
        (r"(?:foo)?\d+", None),
        (r"\p{Han}+工资", None),  # regex-only syntax: no prefilter, the pattern always runs
        (r"(?-i:[A-Z])\w+ Street", {" street"}),
    ],
)
def test_required_literals(pattern, words) -> None:
    found = required_literals(pattern)
    assert found == (frozenset(words) if words is not None else None)


@pytest.mark.parametrize(
    "pattern, pieces",
    [
        (r"(?:a|b)c", ["(?:a)c", "(?:b)c"]),
        (r"(?<![\w])(?:zalo|wa(?=\d))\s*\d+", [r"(?<![\w])(?:zalo)\s*\d+", r"(?<![\w])(?:wa(?=\d))\s*\d+"]),
        (r"\b(?:x[|)]|y\))z", [r"\b(?:x[|)])z", r"\b(?:y\))z"]),
        (r"(?:a|b)?c", None),
        (r"(?:a|b)+c", None),
        (r"a(?:b|c)", None),
        (r"(?:ab)c", None),
    ],
)
def test_split_leading_alternation(pattern, pieces) -> None:
    assert split_leading_alternation(pattern) == pieces


def test_script_gates_skip_rules_of_absent_scripts() -> None:
    engine = default_engine()
    text = "Customer service in Phnom Penh, salary $1,500/month, free accommodation, Telegram @hr_job"
    gated = {r.source_file for r in engine.rules if r.script_gate is not None}
    assert gated == {"ko.yaml", "zh.yaml", "ja.yaml", "th.yaml", "km.yaml", "my.yaml"}
    assert not [r.id for r, _s, _e in engine.match_text(text) if r.source_file in gated]
    assert engine.match_text(text), "the Latin rules still match"


def test_fold_diacritics_keeps_length_and_only_folds_latin() -> None:
    for text in ["Việc nhẹ lương cao ĐI CAMPUCHIA", "ค่ะ ខ្មែរ 한국", "e\u0301 plain"]:
        assert len(fold_diacritics(text)) == len(text)
    assert fold_diacritics("Việc nhẹ lương cao, đặt cọc") == "Viec nhe luong cao, dat coc"
    assert fold_diacritics("ค่ะ") == "ค่ะ"


@pytest.mark.parametrize(
    "raw, rule_id, expected",
    [
        # Half-typed Vietnamese: some diacritics, not all.
        ("viec nhẹ luong cao", "vi.pay.easy_high", "viec nhẹ luong cao"),
        # Korean with spaces added inside a phrase.
        ("숙 식 제 공", "ko.travel.room_board", "숙 식 제 공"),
        # Khmer with zero-width spaces between words.
        ("កុំ\u200bប្រាប់\u200bគ្រួសារ", "km.secret.hide", "កុំ\u200bប្រាប់\u200bគ្រួសារ"),
        # Thai without spaces; SARA AM changes under NFKC but the span is the raw one.
        ("งานสบายรายได้ดีทำงานที่ปอยเปต", "th.dest.compound_hub", "ปอยเปต"),
        # Full-width Latin and digits.
        ("Ｓａｌａｒｙ ＄２，５００／ｍｏｎｔｈ", "en.pay.high_monthly_usd", "＄２，５００／ｍｏｎｔｈ"),
        # Khmer digits read as numbers by patterns.
        ("ប្រាក់ខែ ១៨០០០បាត", "km.pay.high_monthly", "១៨០០០បាត"),
        # HTML: entity and tags inside the span.
        ("<p>Free&nbsp;air ticket</p>", "en.travel.flights_visa_paid", "Free&nbsp;air ticket"),
    ],
)
def test_spans_are_raw_slices(raw, rule_id, expected) -> None:
    matches = [r for r in red_flag_reasons(prepare({"text": raw}), max_reasons=100) if r.rule_id == rule_id]
    assert matches, f"{rule_id} not found in {raw!r}"
    assert matches[0].text == expected == raw[matches[0].start : matches[0].end]


@pytest.mark.parametrize(
    "text, rule_id",
    [
        ("No placement fee", "en.fees.deposit_fee"),
        ("We never charge applicants: no processing fee", "en.fees.deposit_fee"),
        ("WALANG PLACEMENT FEE", "en.fees.deposit_fee"),
        ("Placement fee is waived", "en.fees.deposit_fee"),
        ("기숙사 제공 (보증금 없음)", "ko.fees.deposit"),
        ("登録料・紹介料は一切かかりません", "ja.fees.deposit"),
        ("Không thu phí hồ sơ", "vi.fees.deposit"),
        ("khong thu phi ho so", "vi.fees.deposit"),
        ("ไม่เก็บค่าสมัคร", "th.fees.deposit"),
        ("雇主不得扣護照", "zh.docs.passport_held"),
    ],
)
def test_negation_cues_cancel_a_hit(text, rule_id) -> None:
    assert rule_id not in {r.id for r, _s, _e in default_engine().match_text(normalize(text).text)}


@pytest.mark.parametrize(
    "field, raw, rule_id, text",
    [
        ("contact", "Contact: HR <hiring.kh2024@qq.com>", "any.webmail.address", "hiring.kh2024@qq.com"),
        ("contact", "<recruit@gmail.com>", "any.webmail.address", "recruit@gmail.com"),
        ("description", "<p>Send your CV to <hr.amazon.jobs@gmail.com></p>", "en.webmail.hr_address",
         "Send your CV to <hr.amazon.jobs@gmail.com"),
        ("text", "Apply now: <recruit.kh@gmail.com> or Telegram", "en.webmail.brand_on_webmail",
         "Apply now: <recruit.kh@gmail.com"),
    ],
)
def test_email_in_angle_brackets_is_read_in_a_text_field(field, raw, rule_id, text) -> None:
    """"HR <hiring@qq.com>" in a plain field is an address, not a tag: the webmail rules see it, and
    every span (risk reasons included) indexes the field as sent."""
    prepared = prepare({field: raw})  # clean-text spans, mapped back to the field as sent
    hit = next(m for m in prepared.matches if m.rule_id == rule_id)
    start, end = prepared.raw_map(field).to_raw(hit.start, hit.end)
    assert raw[start:end] == text
    reasons = red_flag_reasons(prepared, max_reasons=100)
    assert all(raw[r.start : r.end] == r.text for r in reasons)
    if hit.kind == "risk":
        assert text in {r.text for r in reasons if r.rule_id == rule_id}
    # A page is read as a browser reads it: "<a@b.com>" is an unknown element there, not text.
    assert not [m for m in prepare({"html": raw}).matches if m.rule_id == rule_id]


def _risk_categories(text: str) -> set[str]:
    return {r.category for r, _s, _e in default_engine().match_text(normalize(text).text) if r.kind == "risk"}


@pytest.mark.parametrize(
    "text",
    [
        "We never ask for your PIN, OTP, bank password or any fee.",
        "We will never ask for your ATM PIN, your OTP or a processing fee.",
        "We never charge a registration fee, processing fee or placement fee.",
        "We never ask for a security deposit, training fee, visa fee, or medical fee.",
        "We do not charge any registration fee, processing fee, or deposit.",
        "We will never ask you to pay.",
        "We will never ask you to pay a deposit, a visa fee or a training fee.",
        "We never ask for your OTP, online banking password, card PIN, or a security deposit.",
        "We will never ask you to send your SSN, bank login or debit card PIN.",
        "เราไม่เคยเรียกเก็บค่าธรรมเนียมใดๆ",
        "เราไม่เคยเรียกเก็บค่าสมัคร ค่ามัดจำ หรือค่าดำเนินการใดๆ",
        "บริษัทไม่เรียกเก็บค่าสมัคร, ค่ามัดจำ หรือค่าเอกสาร",
        "เราจะไม่ขอรหัส OTP, รหัสผ่านแอปธนาคาร หรือเซลฟี่ถือบัตร",
        "Hindi kami naniningil ng placement fee, processing fee o training fee.",
        "Kami tidak pernah meminta PIN, OTP atau biaya pendaftaran.",
    ],
)
def test_a_negation_reaches_over_the_list_it_heads(text) -> None:
    """ "never ask for X, Y or Z" negates every item, though a comma otherwise ends its clause."""
    assert not _risk_categories(text) & {"applicant_fees", "identity_harvesting"}, text


@pytest.mark.parametrize(
    "text, category",
    [
        # A new clause after the comma, not another item: the negation stops there.
        ("We never ask for fees, but a processing fee of $50 is required.", "applicant_fees"),
        ("We never charge fees, however the training fee is 200 USD.", "applicant_fees"),
        ("We never ask for fees, you must pay a processing fee first.", "applicant_fees"),
        ("We never ask for money; registration fee is 50 USD.", "applicant_fees"),
        ("No hidden charges, registration fee required.", "applicant_fees"),
        ("No upfront payment, security deposit on arrival.", "applicant_fees"),
        ("We never ask for your passport, processing fee 5,000 PHP.", "applicant_fees"),
        ("Free flights and visa, processing fee to be paid first.", "applicant_fees"),
        # A short cue ("no") negates only what follows it directly, never a list.
        ("No visa fee, processing fee 5,000 PHP.", "applicant_fees"),
        ("No experience needed, placement fee applies.", "applicant_fees"),
        # A negation of something else than asking or paying heads no list of what is not asked for.
        ("Never leave the compound, passports are kept by the company.", "documents_surrendered"),
        ("Selama kontrak tidak boleh keluar kompleks perusahaan, HP disita.", "confinement"),
        # A negation ends with its sentence.
        ("We never ask for a fee. Send payment of $50 to start.", "applicant_fees"),
        ("We will never ask you to pay. Pay first to reserve your slot.", "applicant_fees"),
        # No negation at all.
        ("Pay a registration fee, a processing fee and a deposit first.", "applicant_fees"),
        ("บริษัทไม่เรียกเก็บค่าสมัคร, แต่ต้องจ่ายค่ามัดจำ 3,000 บาท", "applicant_fees"),
    ],
)
def test_a_negation_does_not_reach_past_its_list(text, category) -> None:
    assert category in _risk_categories(text), text


def test_negated_list_scope_is_bounded() -> None:
    """A list as long as the text costs no more than one that fits the reach (linear, not quadratic)."""
    import time

    text = "We never ask for " + "your PIN, " * 5000 + "or a processing fee."
    start = time.perf_counter()
    default_engine().match_text(normalize(text).text)
    assert time.perf_counter() - start < 2.0
    # Past `max_items` items the cue no longer reaches.
    assert "applicant_fees" in _risk_categories("We never ask for " + "your PIN, " * 30 + "or a processing fee.")


MESSENGER_RULES = [
    "zh.contact.messenger", "th.contact.messenger", "ko.contact.messenger",
    "ja.contact.messenger", "km.contact.messenger", "my.contact.messenger",
]


@pytest.mark.parametrize("rule_id", MESSENGER_RULES)
@pytest.mark.parametrize("template", ["hr@company.com {}", "HR <hr.kh2024@gmail.com>\n{}", "+855 12 345 678 / {} / hr@company.com"])
def test_script_gates_open_per_field_on_a_short_phrase(rule_id, template) -> None:
    """A contact field that is mostly Latin (an email, a phone) with one phrase in another script
    ("微信: abc123", "ไลน์ไอดี: abc") opens that script's rules: gates are decided per field text."""
    engine = default_engine()
    rule = next(r for r in engine.rules if r.id == rule_id)
    assert rule.script_gate is not None
    for example in rule.examples:
        raw = template.format(example)
        assert rule_id in {m.rule_id for m in prepare({"contact": raw}).matches}, raw
        reasons = red_flag_reasons(prepare({"contact": raw, "title": "Customer service"}), max_reasons=100)
        hits = [r for r in reasons if r.rule_id == rule_id]
        assert hits and all(r.field == "contact" and raw[r.start : r.end] == r.text for r in hits), raw


@pytest.mark.parametrize("contact, rule_id", [("hr@company.com 微信: abc123", "zh.contact.messenger"), ("hr@company.com ไลน์ไอดี: abc", "th.contact.messenger")])
def test_script_phrase_in_contact_field(contact, rule_id) -> None:
    assert rule_id in {m.rule_id for m in prepare({"contact": contact, "description": "Customer service, Bangkok office"}).matches}


def test_reasons_cover_every_field_most_severe_first() -> None:
    prepared = prepare({"title": "Urgent hiring", "text": "Keep this confidential. Free accommodation."})
    assert {m.field for m in prepared.matches} == {"title", "text"}
    reasons = red_flag_reasons(prepared)
    assert reasons[0].severity == "high" and reasons[0].category == "secrecy"
    assert [r.severity for r in reasons] == sorted((r.severity for r in reasons), key=["high", "medium", "low"].index)


def test_engine_on_empty_and_odd_texts() -> None:
    engine = default_engine()
    for text in ["", " ", "\u200b", "😀" * 50, "a" * 5000, "월", "฿", "@"]:
        assert isinstance(engine.match_text(text), list)


def test_fixture_ads_match_the_same_with_prefilter_off() -> None:
    """Same categories per ad whichever path runs (a cheap end-to-end check)."""
    fast = default_engine()
    reference = RedFlagEngine(load_ruleset(), prefilter=False)
    for ad in FIXTURE_ADS:
        listing = listing_of(ad)
        assert {m.category for m in prepare(listing, fast).matches} == {m.category for m in prepare(listing, reference).matches}, ad["name"]
