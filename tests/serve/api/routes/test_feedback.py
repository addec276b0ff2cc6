"""POST /v1/feedback: durable rows, restarts, isolation between keys, PostgreSQL."""

from __future__ import annotations

import pytest
from serve_samples import LEGIT_AD, SCAM_AD, postgres_schema
from sqlalchemy import select

from lurescan.serve.db import Database, Feedback


def post_feedback(client, verdict="scam", text=SCAM_AD, **extra):
    body = {"verdict": verdict, "listing": {"id": f"ad-{verdict}", "title": "Customer service", "text": text}, **extra}
    r = client.post("/v1/feedback", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_feedback_is_stored_with_verdict_note_version_score_and_text(client):
    receipt = post_feedback(client, note="Telegram only, Cambodia")
    assert receipt["verdict"] == "scam" and receipt["text_stored"] is True
    model_version = client.get("/v1/model").json()["model_version"]
    assert receipt["model_version"] == model_version and 0 <= receipt["scam_probability"] <= 1
    with client.app.state.lurescan.db.session() as s:
        row = s.get(Feedback, receipt["id"])
    assert (row.verdict, row.note, row.text, row.title, row.listing_id) == (
        "scam",
        "Telegram only, Cambodia",
        SCAM_AD,
        "Customer service",
        "ad-scam",
    )
    assert row.model_version == model_version and row.api_key.startswith("open:")


def test_feedback_keeps_the_score_the_moderator_saw(client):
    receipt = post_feedback(client, "legitimate", LEGIT_AD, model_version="baseline-old", scam_probability=0.42)
    assert (receipt["model_version"], receipt["scam_probability"]) == ("baseline-old", 0.42)


def test_feedback_by_stored_id_copies_the_stored_listing(client):
    stored = client.post("/v1/score", json={"id": "s1", "text": SCAM_AD, "store": True}).json()
    r = client.post("/v1/feedback", json={"verdict": "unsure", "stored_id": stored["stored_id"]})
    assert r.status_code == 201
    with client.app.state.lurescan.db.session() as s:
        row = s.get(Feedback, r.json()["id"])
    assert row.text == SCAM_AD and row.listing_id == "s1" and row.stored_listing_id == stored["stored_id"]


def test_a_key_cannot_use_another_keys_stored_listing(make_client, keys_file, keys):
    with make_client(api_keys_file=keys_file) as client:
        a = {"X-API-Key": keys["board-a"]}
        b = {"X-API-Key": keys["board-b"]}
        stored = client.post("/v1/score", json={"text": SCAM_AD, "store": True}, headers=a).json()
        r = client.post("/v1/feedback", json={"verdict": "scam", "stored_id": stored["stored_id"]}, headers=b)
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"
        assert SCAM_AD not in r.text
        assert (
            client.post(
                "/v1/feedback", json={"verdict": "scam", "stored_id": stored["stored_id"]}, headers=a
            ).status_code
            == 201
        )


def test_feedback_without_text_storage_keeps_verdict_only(make_client):
    with make_client(store_texts=False) as client:
        receipt = post_feedback(client, note="n")
        assert receipt["text_stored"] is False
        with client.app.state.lurescan.db.session() as s:
            row = s.get(Feedback, receipt["id"])
        assert row.verdict == "scam" and row.text is None and row.title is None and row.scam_probability is not None


def test_note_length_is_limited(make_client):
    with make_client(max_note_chars=10) as client:
        r = client.post("/v1/feedback", json={"verdict": "scam", "note": "x" * 11, "listing": {"text": SCAM_AD}})
        assert r.status_code == 422 and "note" in r.json()["error"]["message"]


def test_bad_verdict(client):
    r = client.post("/v1/feedback", json={"verdict": "maybe", "listing": {"text": SCAM_AD}})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == ["verdict"]


def test_feedback_survives_an_app_restart(make_client, tmp_path):
    url = f"sqlite:///{tmp_path / 'restart.sqlite3'}"
    with make_client(database_url=url) as client:
        ids = [post_feedback(client, v)["id"] for v in ("scam", "legitimate", "unsure")]
    with make_client(database_url=url) as client:
        more = post_feedback(client)["id"]
        with client.app.state.lurescan.db.session() as s:
            rows = s.scalars(select(Feedback).order_by(Feedback.id)).all()
    assert [r.id for r in rows] == ids + [more]
    assert [r.verdict for r in rows] == ["scam", "legitimate", "unsure", "scam"]


@pytest.fixture
def postgres_url():
    with postgres_schema() as (url, _engine, _schema):
        yield url


@pytest.mark.postgres
def test_feedback_on_postgresql_survives_restart_and_exports(make_client, postgres_url, tmp_path):
    from lurescan.serve.export import export_feedback
    from lurescan.training.data import load_file

    with make_client(database_url=postgres_url) as client:
        assert client.app.state.lurescan.db.engine.dialect.name == "postgresql"
        first = post_feedback(client, "scam", note="pg")
        stored = client.post("/v1/score", json={"text": LEGIT_AD, "store": True}).json()
        client.post("/v1/feedback", json={"verdict": "legitimate", "stored_id": stored["stored_id"]})
    with make_client(database_url=postgres_url) as client:
        post_feedback(client, "unsure")
        with client.app.state.lurescan.db.session() as s:
            rows = s.scalars(select(Feedback).order_by(Feedback.id)).all()
    assert [r.verdict for r in rows] == ["scam", "legitimate", "unsure"]
    assert rows[0].id == first["id"] and rows[0].note == "pg" and rows[1].text == LEGIT_AD
    db = Database(postgres_url)
    try:
        summary = export_feedback(db, tmp_path / "pg.csv", chunk_rows=1)
    finally:
        db.dispose()
    assert (summary.rows, summary.skipped_unsure) == (2, 1)
    frame, _ = load_file(tmp_path / "pg.csv")
    assert sorted(frame["label"].tolist()) == [0, 1]
