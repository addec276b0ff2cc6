"""The page at / in a real headless Chromium: type an ad, see the score and the highlighted red flags."""

from __future__ import annotations

import pytest
from live_server import app_in_thread, chromium_page, free_port

# An emoji (one code point, two UTF-16 units) before the flags checks that the
# page slices the text as the API counts: code points.
AD = (
    "🌏 URGENT hiring!! Customer service staff to work in Cambodia.\n"
    "Salary $3000/month, no experience needed, free flight and visa.\n"
    "Contact us on Telegram @jobfast now. <b>not markup</b>"
)

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(settings_factory):
    from lurescan.serve.main import create_app

    # The port is chosen first: the settings name it (the page calls the API at its own origin).
    port = free_port()
    with app_in_thread(create_app(settings_factory(port=port)), port=port) as base:
        yield base


@pytest.fixture
def page():
    with chromium_page() as page:
        yield page


def test_page_scores_an_ad_and_highlights_the_returned_spans(live_server, page):
    page.goto(live_server + "/")
    page.fill("#ad", AD)
    with page.expect_response(lambda r: r.url.endswith("/v1/score")) as response_info:
        page.click("#score-btn")
    result = response_info.value.json()
    page.wait_for_selector("#result:not([hidden])")

    assert result["reasons"], "the ad has red flags"
    assert page.inner_text("#risk-level").lower() == result["risk_level"]
    assert page.inner_text("#probability") == f"{result['scam_probability'] * 100:.1f}%"
    assert page.inner_text("#model-version") == result["model_version"]

    marks = page.eval_on_selector_all(
        "#highlighted mark",
        "els => els.map(e => ({text: e.textContent, start: +e.dataset.start, end: +e.dataset.end, cls: e.className}))",
    )
    assert marks
    code_points = list(AD)
    covered = set()
    for mark in marks:
        # Each highlighted piece is exactly the ad's text at the offsets the API returned.
        assert "".join(code_points[mark["start"] : mark["end"]]) == mark["text"]
        covered.update(range(mark["start"], mark["end"]))
    for reason in result["reasons"]:
        assert reason["field"] == "text"
        assert set(range(reason["start"], reason["end"])) <= covered
        assert "".join(code_points[reason["start"] : reason["end"]]) == reason["text"]
    assert any("sev-" in m["cls"] for m in marks)
    # The whole ad is shown, unchanged, and the markup in it stays text.
    assert page.inner_text("#highlighted") == AD
    assert page.locator("#highlighted b").count() == 0
    assert page.locator("#reasons li").count() == len(result["reasons"])


def test_page_shows_api_errors(live_server, page):
    page.goto(live_server + "/")
    page.fill("#ad", "   ")
    page.click("#score-btn")
    page.wait_for_selector("#error:not([hidden])")
    assert "Paste an ad" in page.inner_text("#error")
