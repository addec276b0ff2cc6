"""The read-text limit keeps head and tail with an exact map; UTF-16 offsets agree with JavaScript's counting."""

from __future__ import annotations

import pytest

from lurescan.model.offsets import Utf16Index
from lurescan.model.reading import cap_normalized, cap_text, kept_spans, read_field, reads_empty, scored_raw_spans
from lurescan.model.textnorm import normalize


def test_kept_spans_fit_the_limit():
    assert kept_spans(10, None) == [(0, 10)] and kept_spans(10, 10) == [(0, 10)] and kept_spans(0, 5) == []
    (h0, h1), (t0, t1) = kept_spans(1000, 101)
    assert h0 == 0 and t1 == 1000 and (h1 - h0) + 1 + (t1 - t0) == 101


@pytest.mark.parametrize("raw", ["word " * 400 + "Telegram @tail", "<p>" + "Ordinary text. " * 300 + "</p><p>Telegram @tail</p>"])
def test_capped_text_maps_back_exactly(raw):
    capped = read_field(raw, 200)
    assert capped.text == cap_text(normalize(raw).text, 200) and len(capped.text) == 200
    assert capped.text.endswith("Telegram @tail")
    start = capped.text.index("Telegram")
    a, b = capped.to_raw(start, len(capped.text))
    assert raw[a:b] == "Telegram @tail"
    for i, ch in enumerate(capped.text):
        if ch not in " \n":
            assert ch in raw[capped.starts[i] : capped.ends[i]]
    full = normalize(raw)
    head, tail = scored_raw_spans(capped, len(full.text), 200)
    (_, h), (t, _) = kept_spans(len(full.text), 200)
    # The cut map keeps the uncut map's offsets at the edges of the gap.
    assert head == (0, int(full.ends[h - 1])) and tail == (int(full.starts[t]), len(raw))
    assert head[1] <= tail[0]


def test_uncapped_is_unchanged():
    norm = normalize("short ad")
    assert cap_normalized(norm, 100) is norm


@pytest.mark.parametrize("text", ["plain", "emoji 🌏 and 𠀀 han", "🌏🌏", ""])
def test_utf16_index_counts_like_javascript(text):
    index = Utf16Index(text)
    for i in range(len(text) + 1):
        assert index(i) == len(text[:i].encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    "raw, empty",
    [("\u200b\u00ad\u2060", True), ("  \n\t", True), ("<p><br></p>", True), ("<!-- Telegram -->", True),
     ("<div hidden>x</div>", True), ("a", False), ("<p>a</p>", False), ("&amp;", False)],
)
def test_reads_empty(raw, empty):
    assert reads_empty(raw) is empty
