"""model/features.py: a listing prepared once, and the vectorizer's fast paths equal to the plain ones."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from lurescan.model.features import ListingVectorizer, prepare, prepare_many, sublinear_tfidf_l2
from lurescan.model.listing import MAX_CHARS


def test_prepare_reads_every_field_and_masks_contacts():
    p = prepare({"title": "Customer service", "contact": "Telegram @hr_kh_2024, hr@qq.com", "text": "Free flights and housing."})
    assert set(p.clean_fields) == {"title", "contact", "text"}
    assert "[email]" in p.model_text and "hr@qq.com" not in p.model_text
    assert p.model_text == p.model_text.lower() and not p.truncated and not p.content_dropped
    assert {m.field for m in p.matches} <= set(p.clean_fields)


def test_the_model_window_and_the_field_limit_are_separate():
    text = "word " * 3000
    windowed = prepare({"text": text})
    # head and tail of the window, joined by one separator
    assert windowed.truncated and len(windowed.model_text) == MAX_CHARS + 1 and not windowed.content_dropped
    capped = prepare({"text": text}, max_field_chars=1000)
    assert capped.content_dropped and len(capped.clean_fields["text"]) == 1000
    (head, _), (tail, end) = capped.scored_ranges("text")
    assert head == 0 and end == len(text) and tail > 1000


def test_prepare_many_passes_prepared_listings_through():
    p = prepare({"text": "Free flights"})
    again = prepare_many([p, {"text": "Accountant"}])
    assert again[0] is p and again[1].clean_fields == {"text": "Accountant"}


def test_sublinear_tfidf_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    counts = sp.csr_matrix(np.array([[3, 0, 1], [0, 2, 0], [0, 0, 0]], dtype=float))
    tfidf = TfidfTransformer(sublinear_tf=True, norm=None).fit(counts)
    expected = normalize(tfidf.transform(counts))
    assert np.allclose(sublinear_tfidf_l2(counts, tfidf.idf_).toarray(), expected.toarray())


def test_transform_dot_equals_the_stacked_matrix_product():
    texts = ["Free flights and housing, Telegram @hr_kh", "Accountant at our Jakarta office", "招聘客服 包吃包住"] * 4
    listings = [{"text": t} for t in texts]
    vec = ListingVectorizer(n_word_features=2**10, n_char_features=2**11).fit(listings)
    weights = np.random.default_rng(0).normal(size=(vec.n_features_out_, 2))
    assert np.allclose(vec.transform_dot(listings, weights), vec.transform(listings) @ weights, atol=1e-12)
    assert vec.transform(listings).shape == (len(listings), vec.n_features_out_)
