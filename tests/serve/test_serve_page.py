"""The page at / in a real headless Chromium: type an ad, see the score and the highlighted red flags."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LURESCAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

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
    """The app under uvicorn on a free loopback port, in a thread."""
    import uvicorn
    from lurescan.serve.main import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(settings_factory(port=port))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install -y chromium, or `make browser`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page()
        finally:
            browser.close()


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
