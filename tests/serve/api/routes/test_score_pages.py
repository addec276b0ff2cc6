"""Pages through the API: visible text read, offsets in three units, what was read, empty pages, languages."""

from __future__ import annotations

import pytest
from job_page import build_page
from serve_samples import SCAM_AD


def _utf16(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def _check_units(listing: dict, reason: dict) -> None:
    raw = listing[reason["field"]]
    assert raw[reason["start"] : reason["end"]] == reason["text"]
    units = raw.encode("utf-16-le")
    assert units[2 * reason["start_utf16"] : 2 * reason["end_utf16"]].decode("utf-16-le") == reason["text"]
    assert reason["start_utf16"] == _utf16(raw, reason["start"])


def test_a_real_size_page_with_the_ad_at_the_end_is_flagged_with_spans_in_all_units(client):
    from lurescan.model.visible_text import read_page

    page = build_page()
    assert 190_000 <= len(page.encode("utf-8")) <= 215_000
    body = client.post("/v1/score", json={"html": page}).json()
    assert body["flagged"] is True and body["language"] == "en"
    assert body["content_dropped"] is False  # 200 KB of markup, but its visible text is under the limit
    assert body["scored_ranges"] == [
        {"field": "html", "start": 0, "end": len(page), "start_utf16": 0, "end_utf16": _utf16(page, len(page))}
    ]
    visible = read_page(page).visible
    lure = page.index('id="job-lure"')
    in_lure = [r for r in body["reasons"] if r["start"] > lure]
    assert {r["rule_id"] for r in in_lure} >= {"any.contact.messenger_link", "any.contact.messenger_handle"}
    for reason in body["reasons"]:
        _check_units({"html": page}, reason)
        assert visible[reason["visible_start"] : reason["visible_end"]] == reason["visible_text"]
        vis16 = visible.encode("utf-16-le")
        quoted = vis16[2 * reason["visible_start_utf16"] : 2 * reason["visible_end_utf16"]].decode("utf-16-le")
        assert quoted == reason["visible_text"]
        assert "<" not in reason["visible_text"]
    texts = {r["visible_text"] for r in in_lure}
    assert "Telegram @hr_kh_2024" in texts  # "<b>Tele</b>gram @hr_kh_2024" in the markup
    assert "Apply now" in texts  # the t.me link behind the button
    assert not any("honeypot" in r["visible_text"] or "not_an_ad" in r["text"] for r in body["reasons"])


def test_utf16_offsets_count_emoji_twice(client):
    text = "🌏🌏 " + SCAM_AD
    body = client.post("/v1/score", json={"text": text}).json()
    assert body["reasons"]
    for reason in body["reasons"]:
        assert reason["start_utf16"] == reason["start"] + 2
        _check_units({"text": text}, reason)
        assert "visible_start" not in reason  # only html input has a visible text


def test_html_phrases_split_by_line_breaks_and_evasion_are_found(client):
    html = (
        "<p>No<br>experience needed. Free<br/>flight and visa.</p>"
        "<p>Contact: Tele\u200bgram @jobfast_hr or <a href='https://wa.me/85512345678'>WhatsApp us</a></p>"
    )
    body = client.post("/v1/score", json={"html": html}).json()
    rules = {r["rule_id"] for r in body["reasons"]}
    assert {"en.noexp.no_experience", "en.travel.flights_visa_paid", "any.contact.messenger_link"} <= rules
    link = next(r for r in body["reasons"] if r["rule_id"] == "any.contact.messenger_link")
    assert link["text"] == "https://wa.me/85512345678" and link["visible_text"] == "WhatsApp us"


def test_the_limit_applies_to_the_visible_text_not_the_markup(make_client):
    markup = "<div class='x'><span data-a='1'></span></div>\n" * 3000  # ~150 KB of markup, no text
    html = "<html><body>" + markup + f"<p>{SCAM_AD}</p></body></html>"
    with make_client(max_field_chars=1000) as client:
        body = client.post("/v1/score", json={"html": html}).json()
        assert body["content_dropped"] is False and body["reasons"]
        long_html = "<p>" + "Ordinary words here. " * 200 + "</p>" + f"<p>{SCAM_AD}</p>"
        body = client.post("/v1/score", json={"html": long_html}).json()
        assert body["content_dropped"] is True
        head, tail = body["scored_ranges"]
        assert head["start"] == 0 and tail["end"] == len(long_html) and head["end"] < tail["start"]
        assert any(r["start"] >= tail["start"] for r in body["reasons"]), "the ad at the end is read"


@pytest.mark.parametrize(
    "listing",
    [
        {"text": "\u200b\u200c\u2060\ufeff"},
        {"html": "<div><p></p><br><img src='x.png'></div>"},
        {"html": "<!-- Telegram @hr -->"},
        {"html": "<script>var x = 'Telegram';</script><div hidden>hidden</div>"},
        {"title": "\u00ad", "html": "<p> </p>"},
    ],
)
def test_text_empty_once_read_is_an_empty_listing(client, listing):
    r = client.post("/v1/score", json=listing)
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "empty_listing"


@pytest.mark.parametrize("tag, shown", [("en", "en"), ("EN-us", "en-US"), ("zh-hant", "zh-Hant"), ("fil", "tl")])
def test_known_language_tags_are_accepted_in_canonical_case(client, tag, shown):
    body = client.post("/v1/score", json={"text": SCAM_AD, "language": tag}).json()
    assert body["language"] == shown


@pytest.mark.parametrize("tag", ["klingon", "tlh", "x" * 10_000, "en-", "e n"])
def test_unknown_or_malformed_languages_are_refused(client, tag):
    r = client.post("/v1/score", json={"text": SCAM_AD, "language": tag})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["type"] == "validation_error" and "language" in error["message"]
    assert len(error["message"]) < 300


def test_openapi_documents_both_units_with_examples(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Reason"]["properties"]
    for name in ("start", "end", "start_utf16", "end_utf16", "visible_start", "visible_start_utf16", "visible_text"):
        assert name in schema
    assert "code points" in schema["start"]["description"] and "examples" in schema["start"]
    assert "UTF-16" in schema["start_utf16"]["description"] and "examples" in schema["start_utf16"]
    assert "visible" in schema["visible_start"]["description"] and "examples" in schema["visible_start"]
