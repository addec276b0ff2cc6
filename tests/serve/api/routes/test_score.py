"""POST /v1/score and /v1/score/batch: shapes, ids, thresholds, spans, caps, storage."""

from __future__ import annotations

from serve_samples import LEGIT_AD, SCAM_AD
from sqlalchemy import func, select

from lurescan.serve.db import Feedback, StoredListing

RESULT_KEYS = {
    "id",
    "scam_probability",
    "flagged",
    "threshold",
    "risk_level",
    "reasons",
    "language",
    "model_version",
    "truncated",
    "content_dropped",
    "scored_ranges",
    "categories",
    "category_flags",
    "decided_by",
}
REASON_KEYS = {"category", "severity", "field", "start", "end", "start_utf16", "end_utf16", "text", "explanation"}


def test_score_one_listing_returns_the_documented_shape(client):
    r = client.post("/v1/score", json={"id": "ad-1", "text": SCAM_AD})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == RESULT_KEYS
    assert body["id"] == "ad-1"
    assert 0.0 <= body["scam_probability"] <= 1.0
    assert body["flagged"] == (body["scam_probability"] >= body["threshold"])
    assert body["risk_level"] in {"low", "medium", "high"}
    assert body["truncated"] is False
    assert body["reasons"], "the scam ad has red flags"
    for reason in body["reasons"]:
        assert set(reason) >= REASON_KEYS
        assert SCAM_AD[reason["start"] : reason["end"]] == reason["text"]


def test_spans_index_each_field_exactly_as_sent(client):
    # HTML entities, odd spacing and an emoji before the flags: offsets must still point into the raw strings.
    listing = {
        "title": "Work  in   Cambodia 🌴 — free flight",
        "html": "<p>Salary&nbsp;$3000/month &amp; free visa.</p><p>Contact us on <b>Telegram</b> @jobfast</p>",
        "salary": "$3,500 / month",
    }
    r = client.post("/v1/score", json=listing)
    assert r.status_code == 200
    reasons = r.json()["reasons"]
    assert {reason["field"] for reason in reasons} <= set(listing)
    assert len({reason["field"] for reason in reasons}) >= 2
    for reason in reasons:
        assert listing[reason["field"]][reason["start"] : reason["end"]] == reason["text"]


def test_caller_threshold_decides_flagged(client):
    low = client.post("/v1/score", json={"text": LEGIT_AD, "threshold": 0.0}).json()
    high = client.post("/v1/score", json={"text": SCAM_AD, "threshold": 1.0}).json()
    assert low["threshold"] == 0.0 and low["flagged"] is True and low["risk_level"] == "high"
    assert high["threshold"] == 1.0 and high["flagged"] is False


def test_numeric_id_is_echoed_as_text(client):
    assert client.post("/v1/score", json={"id": 42, "text": LEGIT_AD}).json()["id"] == "42"


def test_batch_keeps_order_and_ids(client):
    listings = [{"id": f"ad-{i}", "text": SCAM_AD if i % 2 else LEGIT_AD} for i in range(7)]
    r = client.post("/v1/score/batch", json={"listings": listings})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["id"] for x in results] == [x["id"] for x in listings]
    single = client.post("/v1/score", json=listings[1]).json()
    assert results[1]["scam_probability"] == single["scam_probability"]
    assert results[1]["reasons"] == single["reasons"]
    assert results[1]["scam_probability"] > results[0]["scam_probability"]


def test_batch_is_one_vectorised_model_call(client):
    holder = client.app.state.lurescan.holder
    scorer = holder.scorer
    calls = []
    original = scorer.score

    def counting(listings, threshold=None, **kw):
        calls.append(len(listings))
        return original(listings, threshold=threshold, **kw)

    scorer.score = counting
    try:
        r = client.post("/v1/score/batch", json={"listings": [{"text": LEGIT_AD}] * 50, "threshold": 0.3})
    finally:
        scorer.score = original
    assert r.status_code == 200
    assert calls == [50]
    assert all(x["threshold"] == 0.3 for x in r.json()["results"])


def test_long_fields_are_read_on_head_and_tail_and_say_so(make_client):
    with make_client(max_field_chars=500) as client:
        long_text = SCAM_AD + " filler" * 200 + " Contact us on Telegram @tail_handle"
        body = client.post("/v1/score", json={"text": long_text}).json()
        assert body["content_dropped"] is True
        head, tail = body["scored_ranges"]
        assert head["start"] == 0 and head["end"] < tail["start"] and tail["end"] == len(long_text)
        assert (head["end"] - head["start"]) + (tail["end"] - tail["start"]) < 500
        for reason in body["reasons"]:
            assert long_text[reason["start"] : reason["end"]] == reason["text"]
            assert reason["end"] <= head["end"] or reason["start"] >= tail["start"]
        assert any(r["text"].endswith("@tail_handle") for r in body["reasons"]), "the tail is read"
        short = client.post("/v1/score", json={"text": SCAM_AD}).json()
        assert short["content_dropped"] is False and short["truncated"] is False
        assert short["scored_ranges"] == [
            {"field": "text", "start": 0, "end": len(SCAM_AD), "start_utf16": 0, "end_utf16": len(SCAM_AD.encode("utf-16-le")) // 2}
        ]


def test_scoring_stores_nothing_unless_asked(client):
    db = client.app.state.lurescan.db
    client.post("/v1/score", json={"text": SCAM_AD})
    client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD}]})
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(StoredListing)) == 0
        assert s.scalar(select(func.count()).select_from(Feedback)) == 0
    stored = client.post("/v1/score", json={"id": "keep-me", "text": SCAM_AD, "store": True}).json()
    assert isinstance(stored["stored_id"], int)
    batch = client.post(
        "/v1/score/batch", json={"listings": [{"text": LEGIT_AD}, {"text": SCAM_AD}], "store": True}
    ).json()
    assert len({x["stored_id"] for x in batch["results"]}) == 2
    with db.session() as s:
        row = s.get(StoredListing, stored["stored_id"])
        assert row.text == SCAM_AD and row.listing_id == "keep-me" and row.model_version == stored["model_version"]
        assert s.scalar(select(func.count()).select_from(StoredListing)) == 3


def test_store_refused_when_server_keeps_no_text(make_client):
    with make_client(store_texts=False) as client:
        r = client.post("/v1/score", json={"text": SCAM_AD, "store": True})
        assert r.status_code == 403 and r.json()["error"]["type"] == "storage_disabled"
