"""Offsets survive every normalisation step, and the fast path agrees with the slow one.

A browser extension highlights `raw[start:end]`, so each clean character must
map to the raw characters it came from, whatever HTML, entities, full-width
forms or whitespace the caller sent.
"""

from __future__ import annotations

import html
import unicodedata

import pytest

from lurescan.model.textnorm import looks_like_html, normalize, quick_normalize

# (raw, clean text) pairs covering each step and the bugs fixed in textnorm.
CLEAN_TEXT_TABLE = [
    ("plain text", "plain text"),
    ("  padded\t\ttext \n\n next ", "padded text\nnext"),
    ("<p>Hello</p><p>world</p>", "Hello\nworld"),
    ("<div>Lương&nbsp;20tr</div>", "Lương 20tr"),
    ("ＴＥＬＥＧＲＡＭ：＠ｊｏｂ", "TELEGRAM:@job"),
    ("月薪３万　包吃住", "月薪3万 包吃住"),
    ("e\u0301te\u0301", "été"),
    ("Apply at #URL_0a1b2c3d4e#", "Apply at [URL]"),
    ("<script>var x = '<p>';</script><p>Visible</p>", "Visible"),
    # Bug: an unknown entity used to gain a ';' ("&ab" read "&ab;").
    ("<p>&ab cd</p>", "&ab cd"),
    # Bug: a trailing "&name" lost its '&' (CPython's HTMLParser.close()).
    ("<p>R&D", "R&D"),
    ("<p>&e", "&e"),
    # Legacy entity without ';' reads as the character, like a browser.
    ("<p>Q&amp A</p>", "Q& A"),
    ("<p>a &#x41 b</p>", "a A b"),
    ("<p title='a>b'>Telegram</p>", "Telegram"),
]


@pytest.mark.parametrize("raw, clean", CLEAN_TEXT_TABLE)
def test_clean_text(raw: str, clean: str) -> None:
    assert normalize(raw).text == clean
    assert quick_normalize(raw) == clean


# (raw, clean substring, raw slice it must map to)
SPAN_TABLE = [
    ("<p>Contact <b>Telegram</b> now</p>", "Telegram", "Telegram"),
    ("<p>Contact&nbsp;us</p>", "Contact us", "Contact&nbsp;us"),
    ("<p>A &amp; B</p>", "A & B", "A &amp; B"),
    ("ＷｈａｔｓＡｐｐ　ｕｓ", "WhatsApp us", "ＷｈａｔｓＡｐｐ　ｕｓ"),
    ("１，０００만원", "1,000만원", "１，０００만원"),
    ("Lương   20tr\n\n\n/tháng", "20tr\n/tháng", "20tr\n\n\n/tháng"),
    # Bug: "&amp" without ';' used to stretch to the next ';' in the text.
    ("&amp<p>&#0;", "&", "&amp"),
    ("<p>Flights &amp<br>visa</p>", "Flights &", "Flights &amp"),
    ("<p title='x>y'>Sihanoukville</p>", "Sihanoukville", "Sihanoukville"),
]


@pytest.mark.parametrize("raw, clean_part, raw_slice", SPAN_TABLE)
def test_span_maps_to_raw_slice(raw: str, clean_part: str, raw_slice: str) -> None:
    norm = normalize(raw)
    start = norm.text.index(clean_part)
    raw_start, raw_end = norm.to_raw(start, start + len(clean_part))
    assert raw[raw_start:raw_end] == raw_slice


# An address in angle brackets in a text field: (raw, the address as read). Not a tag there, so it stays
# text with exact offsets; a page (the `html` field) reads it as a browser does, as an unknown element.
ANGLE_ADDRESS_TABLE = [
    ("Contact: HR <hiring.kh2024@qq.com>", "hiring.kh2024@qq.com"),
    ("<recruit@gmail.com>", "recruit@gmail.com"),
    ("<p>Send your CV to <recruit@gmail.com> today</p>", "recruit@gmail.com"),
    ("Join <https://t.me/hr_kh88> now", "https://t.me/hr_kh88"),
    ("Chat: <t.me/hr_kh88>", "t.me/hr_kh88"),
    ("Site <www.jobs-kh.com> &amp; more", "www.jobs-kh.com"),
    ("<b>HR</b> <mailto:hr@jobs-kh.com>", "mailto:hr@jobs-kh.com"),
    ("Mail: <hr.kh@ｑｑ.com>", "hr.kh@qq.com"),
]


@pytest.mark.parametrize("raw, address", ANGLE_ADDRESS_TABLE)
def test_address_in_angle_brackets_is_text_in_a_field(raw: str, address: str) -> None:
    norm = normalize(raw)
    assert address in norm.text, norm.text
    assert quick_normalize(raw) == norm.text
    start = norm.text.index(address)
    raw_start, raw_end = norm.to_raw(start, start + len(address))
    assert unicodedata.normalize("NFKC", raw[raw_start:raw_end]) == address
    assert raw[raw_start - 1] == "<" and raw[raw_end] == ">"
    _assert_offsets_sensible(raw)
    page = normalize(raw, page=True)
    assert address not in page.text
    assert quick_normalize(raw, page=True) == page.text


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("<p>Hi</p><o:p></o:p><br/>there", "Hi\nthere"),  # Word's namespaced tags are still tags
        ("<hr><a href='https://x.com/jobs'>Jobs</a>", "Jobs"),
        ("<span class=a.b>x</span>", "x"),
        ("a <b> c", "a c"),
    ],
)
def test_real_tags_are_still_tags_in_a_field(raw: str, clean: str) -> None:
    assert normalize(raw).text == normalize(raw, page=True).text == quick_normalize(raw) == clean


def test_to_raw_rejects_empty_or_outside_spans() -> None:
    norm = normalize("abc")
    for start, end in [(1, 1), (2, 1), (-1, 2), (0, 4)]:
        with pytest.raises(ValueError):
            norm.to_raw(start, end)


def test_looks_like_html() -> None:
    assert looks_like_html("<p>x</p>")
    assert looks_like_html("Tom &amp; Jerry")
    assert not looks_like_html("salary < 5000 & more")


def _assert_offsets_sensible(raw: str) -> None:
    norm = normalize(raw)
    assert quick_normalize(raw) == norm.text
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for i, ch in enumerate(norm.text):
        start, end = norm.to_raw(i, i + 1)
        assert 0 <= start < end <= len(raw)
        if i:
            assert norm.starts[i - 1] <= start and norm.ends[i - 1] <= end, "spans go backwards"
        if not ch.isspace():
            piece = raw[start:end]
            readable = unicodedata.normalize("NFKC", html.unescape(piece))
            assert ch in readable or "<" in piece or "#" in piece, (raw, i, ch, piece)
    if norm.text:
        whole = norm.to_raw(0, len(norm.text))
        assert whole[0] <= whole[1]


# Fragments that exercise each step and their interactions.
FRAGMENTS = [
    "<p>", "</p>", "<P class='x'>", "<br/>", "<BR>", "<p\n>", "&amp;", "&amp", "&#65;", "&#x41;", "&#65",
    "&nbsp;", "&bogus;", "<!-- c -->", "<!--", "<", ">", "a<b", "</", "<script>x<p>y</script>", "<?xml?>",
    "&", ";", "#", "ab", " ", "\n", "\t", "\r\n", "\u3000", "ＡＢ", "１２", "ｶﾞ", "한국", "e\u0301", "\u00a0",
    "ﬁ", "①", "ế", "ค่ะ", "ខ្មែរ", "#URL_abcdef12#", "\u200b", "\x1c", "\u2028", "<td>", "</td>",
    "<a href='x&amp;y'>", "</a>", "<p/>", "&#0;", "&#1114112;", "\ufeff", "Ⅻ", "㈱", "…", "\ufb03",
]


@pytest.mark.parametrize(
    "raw",
    [
        "".join(FRAGMENTS),
        "".join(reversed(FRAGMENTS)),
        "".join(FRAGMENTS[i] for i in range(0, len(FRAGMENTS), 3)),
        "&amp<p>&#0;<p>&e",
        "<div>  Lương&nbsp;&nbsp;20tr  </div>\n\n<p>ＷｈａｔｓＡｐｐ</p>",
    ],
)
def test_offsets_sensible_on_mixed_inputs(raw: str) -> None:
    _assert_offsets_sensible(raw)


def test_offsets_sensible_property() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=400, deadline=None, database=None)
    @hypothesis.given(st.lists(st.sampled_from(FRAGMENTS), max_size=16).map("".join))
    def check(raw: str) -> None:
        _assert_offsets_sensible(raw)

    check()
