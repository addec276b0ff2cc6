"""The transformer's view of a listing: fields in order, head+tail truncation, shared by training and ONNX scoring."""

from __future__ import annotations

import pytest

pytest.importorskip("tokenizers")

from lurescan.model.features import prepare
from lurescan.model.transformer_input import ListingEncoder, listing_segments


@pytest.fixture(scope="module")
def encoder(tiny_bert):
    return ListingEncoder.from_file(tiny_bert / "tokenizer.json", max_length=32)


def tokens(encoder, ids):
    return [encoder.tokenizer.id_to_token(i) for i in ids]


def test_short_fields_come_first_with_names_and_contacts_masked():
    header, body = listing_segments(
        prepare({"text": "the body", "contact": "t.me/agent +855 12 345 678", "title": "Typing job"})
    )
    assert header.startswith("title: Typing job | contact:")
    assert "[URL]" in header and "[PHONE]" in header and "t.me" not in header
    assert body == "the body"


def test_long_body_keeps_head_and_tail(encoder):
    text = " ".join(["work"] * 100) + " contact telegram now"
    encoded = encoder.encode([prepare({"title": "salary", "text": text})])[0]
    toks = tokens(encoder, encoded.input_ids)
    assert len(toks) == 32 and encoded.truncated
    assert toks[:5] == ["[CLS]", "title", ":", "salary", "[SEP]"]
    assert toks[-4:] == ["contact", "telegram", "now", "[SEP]"]  # the tail survives
    assert encoded.token_type_ids[:5] == [0] * 5 and set(encoded.token_type_ids[5:]) == {1}


def test_short_listing_is_not_truncated(encoder):
    encoded = encoder.encode([prepare({"text": "apply now"})])[0]
    assert tokens(encoder, encoded.input_ids) == ["[CLS]", "[SEP]", "apply", "now", "[SEP]"]
    assert not encoded.truncated


def test_long_header_leaves_room_for_the_body(encoder):
    encoded = encoder.encode([prepare({"title": "job " * 200, "text": "apply now " * 50})])[0]
    toks = tokens(encoder, encoded.input_ids)
    assert len(toks) == 32
    assert toks.count("apply") >= 5  # half the budget stays with the body


def test_a_megabyte_ad_costs_no_more_than_a_long_one(encoder):
    encoded = encoder.encode([prepare({"text": "work " * 200_000 + "telegram"})])[0]
    assert len(encoded.input_ids) == 32 and tokens(encoder, encoded.input_ids)[-2] == "telegram"
