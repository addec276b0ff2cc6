"""HTML is read as a person sees it, every character still mapped to the markup it came from."""

from __future__ import annotations

import time

import pytest

from lurescan.model.features import prepare
from lurescan.model.reasons import red_flag_reasons
from lurescan.model.textnorm import normalize, quick_normalize
from lurescan.model.visible_text import is_link_target, read_page

# (html, read text after normalisation, visible text exactly as the DOM's text nodes hold it)
PAGES = [
    ("<p>No<br>experience required. Free<br/>flights.</p>", "No\nexperience required. Free\nflights.",
     "Noexperience required. Freeflights."),
    ("<script>var x='<p>Telegram</p>';</script><style>p{}</style><p>Visible</p>", "Visible", "Visible"),
    ("<template><p>t</p></template><noscript><p>n</p></noscript><!-- Telegram --><p>a</p>", "a", "a"),
    ('<div hidden>gone</div><p style="color:red; display: none">gone</p><span style="visibility:hidden">x</span>ok',
     "ok", "ok"),
    ('<p style="display:block">shown</p><p class="hidden">class only</p>', "shown\nclass only", "shownclass only"),
    ("<p>Rp&nbsp;25.000.000 &amp; &#xD154;&#xB808;</p>", "Rp 25.000.000 & 텔레", "Rp\u00a025.000.000 & 텔레"),
    ("<p>line one\r\nline two</p>", "line one\nline two", "line one\nline two"),
    ("<pre>\nkept</pre>", "kept", "kept"),
    ("<html><head><title>Title</title></head>\n<body>\n<p>Body</p>\n</body></html>\n", "Body", "\nBody\n\n"),
    ("<ul><li>one<li>two</ul>", "one\ntwo", "onetwo"),
    ("<p hidden>hidden<div>shown after the implied end of p</div>", "shown after the implied end of p",
     "shown after the implied end of p"),
    ("<!-->visible<!--->too<!-- x --!>also", "visibletooalso", "visibletooalso"),
    ("<p title='a>b'>Telegram</p>", "Telegram", "Telegram"),
    ("<svg><text>in svg</text><path d='M0'/></svg>after", "in svgafter", "in svgafter"),
]


@pytest.mark.parametrize("raw, read, visible", PAGES)
def test_visible_and_read_text(raw: str, read: str, visible: str) -> None:
    page = read_page(raw)
    assert page.visible == visible
    assert normalize(raw).text == read
    assert quick_normalize(raw) == read


@pytest.mark.parametrize("raw, _read, _visible", PAGES)
def test_every_visible_character_maps_to_its_markup(raw: str, _read: str, _visible: str) -> None:
    page = read_page(raw)
    for i, ch in enumerate(page.visible):
        source = raw[page.visible_starts[i] : page.visible_ends[i]]
        assert source == ch or source in ("\r\n", "\r") or source.startswith("&"), (i, ch, source)


def test_messenger_link_targets_are_read_and_map_to_the_href() -> None:
    raw = '<p>Chat with HR: <a class="btn" href="https://t.me/hr_kh_2024">Apply</a> or <a href="/jobs/1">more</a></p>'
    norm = normalize(raw)
    assert "https://t.me/hr_kh_2024" in norm.text
    assert "/jobs/1" not in norm.text  # ordinary links stay out
    reasons = red_flag_reasons(prepare({"html": raw}), max_reasons=100)
    link = next(r for r in reasons if r.rule_id == "any.contact.messenger_link")
    assert raw[link.start : link.end] == link.text == "https://t.me/hr_kh_2024"
    page = read_page(raw)
    start, end = page.visible_span(link.start, link.end)
    assert page.visible[start:end] == "Apply"  # a highlight goes on the link's own text


def test_a_link_whose_text_is_its_target_is_read_once() -> None:
    raw = '<a href="https://wa.me/85512345678">wa.me/85512345678</a>'
    assert normalize(raw).text.count("wa.me/85512345678") == 1


@pytest.mark.parametrize(
    "href, kept",
    [
        ("https://t.me/x", True),
        ("HTTPS://T.ME/x", True),
        ("//line.me/R/ti/p/@abc", True),
        ("https://www.t.me.evil.example/x", False),
        ("https://chat.whatsapp.com/AbC", True),
        ("tg://resolve?domain=hr", True),
        ("mailto:hr@example.com", True),
        ("javascript:alert(1)", False),
        ("/jobs/1", False),
    ],
)
def test_link_targets(href: str, kept: bool) -> None:
    assert is_link_target(href) is kept


def test_visible_span_of_a_reason_crossing_tags() -> None:
    raw = "<p>Contact <b>Tele</b>gram @hr_kh_2024</p>"
    page = read_page(raw)
    start, end = raw.index("Tele"), raw.index("2024") + 4
    vs, ve = page.visible_span(start, end)
    assert page.visible[vs:ve] == "Telegram @hr_kh_2024"


@pytest.mark.parametrize(
    "raw",
    [
        "<a x='" * 40_000,  # quotes never closed
        "<!--" * 50_000,  # comments never closed
        "<div>" * 60_000 + "deep" + "</div>" * 60_000,  # nesting past the stack cap
        "&amp" * 60_000 + "&#x" * 20_000,
        "<p" * 100_000,
        "</" * 100_000,
        "<script>" + "</scrip" * 30_000,
    ],
)
def test_reading_is_linear_on_hostile_markup(raw: str) -> None:
    started = time.perf_counter()
    read_page(raw)
    normalize(raw)
    assert time.perf_counter() - started < 3.0, "reading must stay linear in the input"
