"""What a browser extension does, in a real headless Chromium.

A job-board page of real size (~200 KB, the lure at the very end) is open at
one origin; the "extension" sends its HTML cross-origin to the API (CORS
preflight and all), then highlights every reason on the live page through a
DOM Range built from the response's `visible_start_utf16`/`visible_end_utf16`
by walking the page's visible text nodes, the way the API documents. Also:
an error answer is readable by the page (CORS on a 413), and /docs and
/redoc render with every request outside the server blocked.

Needs Debian's Chromium (`make browser`); skipped without it.
"""

from __future__ import annotations

import http.server
import threading

import pytest
from job_page import build_page
from live_server import app_in_thread, chromium_page, free_port

pytestmark = pytest.mark.browser

# The extension's side: walk the visible text nodes as the API defines them,
# build Ranges from UTF-16 offsets, highlight them.
EXTENSION_JS = """
async ([api, html]) => {
  const HIDDEN = new Set(["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "IFRAME", "NOEMBED", "NOFRAMES", "HEAD", "TITLE"]);
  const visibleNode = (node) => {
    for (let el = node.parentElement; el && el !== document.documentElement; el = el.parentElement) {
      if (HIDDEN.has(el.tagName.toUpperCase()) || el.hasAttribute("hidden")) return false;
      if (el.style && (el.style.display === "none" || el.style.visibility === "hidden")) return false;
    }
    return true;
  };
  const nodes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) if (visibleNode(n)) nodes.push(n);
  const starts = [];
  let total = 0;
  for (const n of nodes) { starts.push(total); total += n.data.length; }
  const visible = nodes.map((n) => n.data).join("");
  const locate = (offset, isEnd) => {
    // the node holding UTF-16 offset `offset` (an end offset may sit at a node's end)
    let lo = 0, hi = nodes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] < offset || (!isEnd && starts[mid] === offset)) lo = mid; else hi = mid - 1;
    }
    return [nodes[lo], offset - starts[lo]];
  };
  const response = await fetch(api + "/v1/score", {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({html}),
  });
  const result = await response.json();
  const checks = [];
  const ranges = [];
  for (const r of result.reasons) {
    const range = document.createRange();
    const [sn, so] = locate(r.visible_start_utf16, false);
    const [en, eo] = locate(r.visible_end_utf16, true);
    range.setStart(sn, so);
    range.setEnd(en, eo);
    ranges.push(range);
    const rect = range.getBoundingClientRect();
    checks.push({
      rule: r.rule_id, visible_text: r.visible_text, text: r.text,
      range_text: range.toString(),
      visible_slice: visible.slice(r.visible_start_utf16, r.visible_end_utf16),
      raw_slice: html.slice(r.start_utf16, r.end_utf16),
      in_lure: !!(sn.parentElement && sn.parentElement.closest("#job-lure")),
      area: rect.width * rect.height,
    });
  }
  CSS.highlights.set("lurescan", new Highlight(...ranges));
  const big = await fetch(api + "/v1/score", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({html: "x".repeat(2000000)}),
  });
  return {status: response.status, flagged: result.flagged, checks, highlighted: CSS.highlights.get("lurescan").size,
          big_status: big.status, big_error: (await big.json()).error.type};
}
"""


@pytest.fixture
def board():
    """The job board: serves the 200 KB page at http://localhost:PORT/jobs.html."""
    page = build_page().encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture
def api(settings_factory, board):
    """The API under uvicorn, allowing the board's origin."""
    from lurescan.serve.main import create_app

    port = free_port()
    with app_in_thread(create_app(settings_factory(port=port, cors_origins=[board])), port=port) as base:
        yield base


@pytest.fixture
def browser_page():
    with chromium_page() as page:
        yield page


def test_extension_highlights_every_reason_on_a_real_size_page_through_dom_ranges(api, board, browser_page):
    browser_page.goto(board + "/jobs.html")
    # What an extension sends: the page as the browser holds it.
    html = browser_page.evaluate("document.documentElement.outerHTML")
    assert len(html.encode("utf-8")) > 190_000
    out = browser_page.evaluate(EXTENSION_JS, [api, html])
    assert out["status"] == 200 and out["flagged"] is True
    assert out["checks"] and out["highlighted"] == len(out["checks"])
    for check in out["checks"]:
        assert check["raw_slice"] == check["text"], check  # UTF-16 offsets slice the HTML as sent
        assert check["visible_slice"] == check["visible_text"], check  # visible offsets slice the DOM's text
        assert check["range_text"] == check["visible_text"], check  # ... and the Range covers exactly that
    lure = [c for c in out["checks"] if c["in_lure"]]
    rules = {c["rule"] for c in lure}
    assert {"any.contact.messenger_link", "any.contact.messenger_handle", "en.docs.passport_held"} <= rules
    assert "Telegram @hr_kh_2024" in {c["range_text"] for c in lure}  # across <b>Tele</b>gram
    assert "Apply now" in {c["range_text"] for c in lure}  # the t.me link behind the button
    assert all(c["area"] > 0 for c in lure), "each highlight covers text on the page"
    # An error is a readable JSON answer to the page, not "Failed to fetch".
    assert out["big_status"] == 413 and out["big_error"] == "payload_too_large"


@pytest.mark.parametrize("path, ready", [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")])
def test_docs_render_offline(api, browser_page, path, ready):
    outside = []

    def only_local(route):
        url = route.request.url
        if url.startswith(api):
            route.continue_()
        else:
            outside.append((route.request.resource_type, url))
            route.abort()

    browser_page.route("**/*", only_local)
    browser_page.goto(api + path)
    title = browser_page.wait_for_selector(ready, timeout=30_000)
    assert "lurescan" in title.inner_text()
    # Nothing the page needs comes from outside (ReDoc's footer asks for the Redocly logo, an image; it stays away).
    assert not [u for kind, u in outside if kind in ("script", "stylesheet", "font", "fetch", "xhr", "document")], outside
