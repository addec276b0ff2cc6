"""N-gram evidence re-hashes a listing's own n-grams: the columns must be the vectorizer's."""

from __future__ import annotations

from lurescan.model.explain import _word_column, locate
from lurescan.model.features import ListingVectorizer, prepare
from lurescan.model.ngrams import CharNgramHasher
from lurescan.model.reasons import reason_at

TEXT = "urgent: work in cambodia, free flight [url] 高薪工作 包吃住 ¥18000/月"


def test_word_columns_are_the_hashing_vectorizers():
    vectorizer = ListingVectorizer(n_word_features=2**12)
    hasher = vectorizer._word_hasher()
    columns = {_word_column(gram, 2**12) for gram in hasher.build_analyzer()(TEXT)}
    assert columns == set(hasher.transform([TEXT]).indices.tolist())


def test_char_columns_are_the_char_hashers():
    full = set(CharNgramHasher(ngram_range=(2, 5), n_features=2**14).transform([TEXT]).indices.tolist())
    for n in (2, 3, 5):
        grams = sorted({TEXT[i : i + n] for i in range(len(TEXT) - n + 1)})
        columns = CharNgramHasher(ngram_range=(n, n), n_features=2**14).transform(grams).indices.tolist()
        assert len(columns) == len(grams) and set(columns) <= full


def test_locate_maps_an_ngram_to_the_raw_field():
    listing = {"title": "Data entry", "salary": "¥18000/月", "text": "Free   FLIGHT and <b>visa</b>"}
    prepared = prepare(listing)
    # locate finds the n-gram in the read text; reason_at maps it to the field as sent.
    field, start, end = locate(prepared, "18000 月")
    reason = reason_at(prepared, field, start, end, category="model_evidence", severity="low", explanation="x")
    assert (field, reason.text, listing[field][reason.start : reason.end]) == ("salary", "18000/月", "18000/月")
    field, start, end = locate(prepared, "free flight")
    assert prepared.clean_fields[field][start:end].lower() == "free flight"
    reason = reason_at(prepared, field, start, end, category="model_evidence", severity="low", explanation="x")
    assert listing[field][reason.start : reason.end] == reason.text == "Free   FLIGHT"
    assert locate(prepared, "telegram") is None
