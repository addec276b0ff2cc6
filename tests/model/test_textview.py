"""The source-neutral view: the same ad reads the same whatever board's layout
and style it comes in, and n-grams only one board uses carry no weight."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lurescan.model.features import ListingVectorizer, prepare
from lurescan.model.textview import neutral_text


def _view(fields: dict) -> str:
    p = prepare(fields)
    return " ".join(neutral_text(p.listing, p.clean_fields).split())


def test_emscad_layout_and_board_layout_read_the_same() -> None:
    emscad = {
        "title": "Data Entry Clerk",
        "location": "US, TX, Houston",
        "company": "Acme",
        "company_profile": "Acme is a leader in staffing since 1990.",
        "description": "Work from home &amp; earn weekly.Apply at #URL_0a1b2c3d4e5f#",
        "employment_type": "Full-time",
    }
    board = {"title": "Data Entry Clerk", "location": "Houston", "text": "Work from home & earn weekly. Apply at https://acme-jobs.com/apply"}
    assert _view(emscad) == _view(board) == "data entry clerk work from home & earn weekly. apply at [url]"


def test_contacts_digits_places_and_decorations_are_folded() -> None:
    view = _view({"text": "💰 Salary $2,500/month in Phnom Penh ★ call +855 12 345 678 or hr@corp.kh, t.me/hr_job"})
    assert "[phone]" in view and "[email]" in view and "[url]" in view
    assert "$0,000/month" in view and "[place]" in view and "phnom" not in view
    assert "💰" not in view and "★" not in view and view == view.lower()


def test_the_title_is_read_once() -> None:
    assert _view({"title": "Barista", "text": "Barista\nMorning shifts"}).split().count("barista") == 1


def test_glued_paragraphs_are_split() -> None:
    assert "it. requirements:" in _view({"description": "You will love it.Requirements: none"})
    assert "tx location" in _view({"description": "Deweyville, TXLocation Name"})


def _fit(texts, sources, support):
    v = ListingVectorizer(text_view="neutral", n_word_features=2**12, n_char_features=2**12, use_redflags=False, min_source_support=support)
    return v.fit([prepare({"text": t}) for t in texts], sources=sources)


def test_ngrams_of_a_single_board_get_no_weight() -> None:
    texts = ["zqxj salary weekly", "zqxj pay weekly", "salary weekly", "pay weekly hours"]
    sources = ["a", "a", "b", "b"]
    strict = _fit(texts, sources, support=2)
    loose = _fit(texts, sources, support=1)
    only_board_a = [prepare({"text": "zqxj"})]
    assert not strict.transform(only_board_a).toarray().any()
    assert loose.transform(only_board_a).toarray().any()
    shared = [prepare({"text": "salary weekly"})]
    assert strict.transform(shared).toarray().any()


def test_default_support_follows_the_number_of_boards() -> None:
    texts = ["a b", "c d", "e f", "g h"]
    assert _fit(texts, ["x", "x", "x", "x"], None).effective_min_source_support() == 1
    assert _fit(texts, ["w", "x", "y", "z"], None).effective_min_source_support() == 2
    assert _fit(texts, None, None).effective_min_source_support() == 1


def test_a_model_saved_before_text_views_reads_the_raw_text() -> None:
    v = ListingVectorizer(n_word_features=2**10, n_char_features=2**10, use_redflags=False).fit([prepare({"text": "hello world"})])
    del v.text_view
    p = prepare({"text": "Hello World"})
    assert v.model_texts([p]) == [p.model_text]
    assert np.isfinite(v.transform([p]).toarray()).all()


def test_place_masker_matches_the_full_alternation() -> None:
    """The substring prefilter only skips work: the same replacements as one alternation of every name."""
    import regex

    from lurescan.model.redflags.destination import default_destinations
    from lurescan.model.textview import PlaceMasker

    names = sorted(set(default_destinations().places), key=len, reverse=True)
    full = regex.compile(r"(?<!\w)(?:" + "|".join(regex.escape(n) for n in names) + r")(?!\w)", regex.IGNORECASE)
    masker = PlaceMasker(names)
    texts = [
        "Office in PHNOM PENH, then Sihanoukville; visit Phnom Penhs? no. 西港 and 金边 too.",
        "Bangkok / bangkok-based, Mae Sot, Kuala Lumpur (KL) or Ho Chi Minh City",
        "nothing here at all",
        "",
        "phnompenh glued, Phnom  Penh with two spaces, ПномПень, Myawaddy's KK Park",
    ]
    texts += [f"{a} {b}" for a in names[:40] for b in ("office", names[-1].upper())]
    for text in texts:
        assert masker.sub(" [place] ", text) == full.sub(" [place] ", text), text


def test_the_domain_branch_is_skipped_only_where_it_cannot_match() -> None:
    """Without '.<tld>' anywhere, the URL mask runs its scheme branch alone: the same masks as the whole pattern."""
    import yaml

    from lurescan.model import textview
    from lurescan.model.textview import mask_contacts

    class AlwaysFound:
        def search(self, text: str) -> bool:
            return True

    def reference(text: str) -> str:
        saved, textview._ANY_TLD = textview._ANY_TLD, AlwaysFound()  # the whole pattern on every text
        try:
            return mask_contacts(text)
        finally:
            textview._ANY_TLD = saved

    specs = yaml.safe_load((Path(__file__).resolve().parents[1] / "fixtures" / "pathological.yaml").read_text("utf-8"))
    texts = [(s["unit"] * (3000 // len(s["unit"]) + 1))[:3000] + s.get("tail", "") for s in specs["inputs"]]
    texts += [
        "Apply at https://jobs.example/apply or www.hr-portal.asia/job?id=1 today",
        "Apply at jobs.example.com/apply or hr.kh, or t.me/hr_kh_2024; see WWW.BIG-PAY.NET",
        "a.a.a.a.a. 1-1-1-1- no domain here, just www.",
        "lương 30 triệu, liên hệ zalo 0901 234 567, website congty.vn",
        "",
    ]
    for text in texts:
        assert mask_contacts(text) == reference(text), text[:60]
