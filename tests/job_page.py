"""A real-size job-board page (~200 KB of HTML) with a scam ad at the very end.

Built the way a board's page is: a head with inline CSS and a JSON state blob
that a script reads, a navigation bar, a honeypot and a cookie banner hidden
from view, ordinary ads from the repository's own corpus (data/corpus,
label 0) as cards, then the lure, written with the tricks that hide phrases
from a naive reader: a line break inside a phrase, entities, a soft hyphen,
zero-width characters and Cyrillic look-alikes inside words, an emoji (two
UTF-16 units), a tag inside a word, and the messenger link behind "Apply".
Used by the Chromium test and by benchmarks/bench_page.py.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "data" / "corpus" / "en_more.jsonl"

# The lure, as the board's HTML carries it. "Tеlеgrаm" has Cyrillic е and а.
SCAM_CARD = (
    '<article class="job-card featured" id="job-lure" data-id="98231">\n'
    '  <h2 class="job-title">🌏 Customer Service Staff – Sihanoukville, Cambodia</h2>\n'
    '  <div class="job-meta"><span>Salary: $2,500&nbsp;–&nbsp;$3,500/month</span></div>\n'
    '  <div class="job-body">\n'
    "    <p>URGENT hiring!! No<br>experience needed. Free\u00adflights and visa provided,"
    " accommodation and meals included.</p>\n"
    "    <p>Work in Cambodia, typing job, high commission. Passport will be kept by the company for safety.</p>\n"
    "    <p>Contact HR on <b>Tele</b>gram @hr_kh_2024 or Tеlеgrаm now &#x1F4F2;, Tele\u200bgram only.</p>\n"
    '    <p class="apply"><a class="btn" href="https://t.me/hr_kh_2024?start=apply">Apply now</a></p>\n'
    "  </div>\n"
    "</article>\n"
)

_CSS_RULE = ".c{n} .job-card .job-title{{font:600 1.1rem/1.3 system-ui;margin:0 0 .25rem;color:#1a1a2e}}\n"


def _ordinary_ads() -> list[dict]:
    rows = [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("label") == 0 and r.get("text")]


_ICON = (
    '<svg class="icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">'
    '<path d="M12 2C8.1 2 5 5.1 5 9c0 5.2 7 13 7 13s7-7.8 7-13c0-3.9-3.1-7-7-7zm0 9.5a2.5 2.5 0 1 1 0-5 2.5 2.5 0 0 1 0 5z"/></svg>'
)


def _card(ad: dict, n: int) -> str:
    """A search-result card: title, meta line, a snippet of the ad, badges and buttons."""
    snippet = html.escape(" ".join(ad["text"].split())[:280]) + "…"
    job = 1000 + n
    return (
        f'<article class="job-card card card--elevated" id="job-{n}" data-id="{job}" data-track="result" '
        f'data-position="{n}" itemscope itemtype="https://schema.org/JobPosting">\n'
        f'  <div class="card__header"><h2 class="job-title" itemprop="title"><a class="link link--primary" '
        f'href="/jobs/{job}?src=serp&amp;pos={n}" data-gtm="job-title">{html.escape(ad.get("title") or "Job")}</a></h2>\n'
        f'  <button class="btn btn--icon save" type="button" aria-label="Save job" data-job="{job}">{_ICON}</button></div>\n'
        f'  <div class="job-meta"><span class="company" itemprop="hiringOrganization">{html.escape(ad.get("company") or "")}'
        f'</span> <span class="sep">·</span> {_ICON}<span class="location" itemprop="jobLocation">'
        f'{html.escape(ad.get("location") or "")}</span></div>\n'
        f'  <div class="job-snippet" itemprop="description"><p>{snippet}</p></div>\n'
        f'  <ul class="badges"><li class="badge badge--new">New</li><li class="badge">Full-time</li>'
        f'<li class="badge badge--muted">Easy apply</li></ul>\n'
        f'  <div class="card__footer"><span class="posted" title="2026-11-{1 + n % 28:02d}">{1 + n % 28}d ago</span>'
        f'<a class="btn btn--secondary" href="/jobs/{job}/apply" rel="nofollow">Apply</a></div>\n'
        "</article>\n"
    )


def build_page(target_bytes: int = 200_000) -> str:
    """A page of about `target_bytes` UTF-8 bytes whose last card is the lure."""
    ads = _ordinary_ads()
    head = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>Jobs in Asia – 2,314 openings | BoardCo</title>\n"
        "<style>\n" + "".join(_CSS_RULE.format(n=n) for n in range(160)) + "</style>\n"
        '<script id="__STATE__" type="application/json">'
        + json.dumps({"jobs": [{"id": 1000 + n, "title": a.get("title")} for n, a in enumerate(ads)]})
        + "</script>\n"
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
        "if(document.cookie.indexOf('<p>')>-1){gtag('x')}</script>\n"
        "</head>\n"
    )
    nav = (
        "<body>\n<header><nav><ul>"
        + "".join(f'<li><a href="/c/{c}">{c.title()}</a></li>' for c in ("it", "sales", "care", "hotel", "retail"))
        + "</ul></nav></header>\n"
        '<div class="cookie" hidden><p>We use cookies. Contact us on WhatsApp for a deposit refund.</p></div>\n'
        '<div style="display:none">free visa free flights telegram honeypot</div>\n'
        "<!-- promo: Telegram @not_an_ad -->\n"
        '<main id="results">\n'
    )
    tail = "</main>\n<footer><p>© 2026 BoardCo · <a href=\"/privacy\">Privacy</a></p></footer>\n</body>\n</html>\n"
    cards, size, n = [], len((head + nav + SCAM_CARD + tail).encode("utf-8")), 0
    while size < target_bytes:
        card = _card(ads[n % len(ads)], n)
        cards.append(card)
        size += len(card.encode("utf-8"))
        n += 1
    return head + nav + "".join(cards) + SCAM_CARD + tail
