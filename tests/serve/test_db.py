"""Storage that never drops a verdict it acknowledged and never acknowledges
what it cannot keep, the same on SQLite and PostgreSQL (issue 15): NUL bytes
stored (as U+FFFD), over-long or out-of-range values a typed 422, never 500;
a database that cannot be written fails readiness; `:memory:` refused."""

from __future__ import annotations

import pytest
from serve_samples import SCAM_AD, postgres_schema
from sqlalchemy import select

from lurescan.serve.db import Database, Feedback, StoredListing


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'storage.sqlite3'}"
        return
    with postgres_schema() as (url, _engine, _schema):
        yield url


def test_nul_bytes_are_stored_not_500(make_client, database_url):
    with make_client(database_url=database_url) as client:
        body = {
            "verdict": "scam",
            "note": "nul\x00here",
            "listing": {"id": "ad\x00-1", "title": "Customer\x00service", "text": SCAM_AD + "\x00"},
        }
        response = client.post("/v1/feedback", json=body)
        assert response.status_code == 201, response.text
        stored = client.post("/v1/score", json={"text": "Barista\x00 wanted in Hanoi", "store": True})
        assert stored.status_code == 200, stored.text
        with client.app.state.lurescan.db.session() as s:
            row = s.scalars(select(Feedback)).one()
            kept = s.get(StoredListing, stored.json()["stored_id"])
    assert row.note == "nul\ufffdhere" and row.title == "Customer\ufffdservice"
    assert kept is not None and "\x00" not in (kept.text or "")


@pytest.mark.parametrize("stored_id", [2**63, 2**64, -1, 0])
def test_stored_id_out_of_range_is_a_typed_422(make_client, database_url, stored_id):
    with make_client(database_url=database_url) as client:
        response = client.post("/v1/feedback", json={"verdict": "scam", "stored_id": stored_id})
        assert response.status_code == 422, response.text
        assert response.json()["error"]["type"] == "validation_error"


def test_overlong_values_are_a_typed_422(make_client, database_url):
    with make_client(database_url=database_url) as client:
        long_language = {"verdict": "scam", "listing": {"text": SCAM_AD, "language": "x" * 40}}
        long_version = {"verdict": "scam", "listing": {"text": SCAM_AD}, "model_version": "v" * 500}
        long_id = {"verdict": "scam", "listing": {"text": SCAM_AD, "id": "i" * 300}}
        for body in (long_language, long_version, long_id):
            response = client.post("/v1/feedback", json=body)
            assert response.status_code == 422, response.text
            assert response.json()["error"]["type"] == "validation_error"


def test_readiness_writes(make_client, tmp_path):
    path = tmp_path / "ro.sqlite3"
    with make_client(database_url=f"sqlite:///{path}") as client:
        assert client.get("/readyz").status_code == 200
    # The same file, opened read-only: readiness fails instead of every write.
    with make_client(database_url=f"sqlite:///file:{path}?mode=ro&uri=true") as client:
        response = client.get("/readyz")
        assert response.status_code == 503 and response.json()["status"] == "database_unwritable"


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://", "sqlite:///file:x?mode=memory&uri=true"])
def test_in_memory_database_is_refused(url):
    with pytest.raises(ValueError, match="in memory"):
        Database(url)


def _feedback_rows(client) -> list:
    with client.app.state.lurescan.db.session() as s:
        return s.scalars(select(Feedback).order_by(Feedback.id)).all()


def test_idempotency_key_makes_a_retry_return_the_first_row(make_client, database_url):
    """A retry after a lost acknowledgement created a duplicate verdict."""
    with make_client(database_url=database_url) as client:
        body = {"verdict": "scam", "note": "n", "listing": {"id": "ad-9", "text": SCAM_AD}, "scam_probability": 0.9}
        headers = {"Idempotency-Key": "4b0c2c1e-retry"}
        first = client.post("/v1/feedback", json=body, headers=headers)
        again = client.post("/v1/feedback", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        other = client.post("/v1/feedback", json={**body, "verdict": "legitimate"}, headers=headers)
        assert other.status_code == 409 and other.json()["error"]["type"] == "idempotency_conflict"
        assert client.post("/v1/feedback", json=body).status_code == 201  # no key: a new row
        assert len(_feedback_rows(client)) == 2


def test_idempotency_key_is_per_api_key(make_client, database_url, keys_file, keys):
    with make_client(database_url=database_url, api_keys_file=keys_file) as client:
        body = {"verdict": "scam", "listing": {"text": SCAM_AD}, "scam_probability": 0.9}
        for name in ("board-a", "board-b"):
            r = client.post("/v1/feedback", json=body, headers={"Idempotency-Key": "same", "X-API-Key": keys[name]})
            assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
        assert len(_feedback_rows(client)) == 2


def test_export_keeps_one_current_verdict_per_listing_with_its_id_and_note(make_client, database_url, tmp_path):
    import pandas as pd

    from lurescan.serve.export import export_feedback

    with make_client(database_url=database_url) as client:
        stored = client.post("/v1/score", json={"id": "board-77", "text": SCAM_AD, "store": True}).json()["stored_id"]
        client.post("/v1/feedback", json={"verdict": "legitimate", "stored_id": stored, "note": "first look"})
        client.post("/v1/feedback", json={"verdict": "scam", "stored_id": stored, "note": "Telegram only"})
        client.post("/v1/feedback", json={"verdict": "scam", "listing": {"id": "board-78", "text": SCAM_AD}})
        client.post("/v1/feedback", json={"verdict": "legitimate", "listing": {"id": "board-78", "text": SCAM_AD}})
        assert len(_feedback_rows(client)) == 4  # the history is kept
        summary = export_feedback(client.app.state.lurescan.db, tmp_path / "out.csv")
    frame = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert summary.rows == 2
    current = dict(zip(frame["listing_id"], zip(frame["label"], frame["note"])))
    assert current == {"board-77": ("1", "Telegram only"), "board-78": ("0", "")}


def test_feedback_on_a_stored_listing_records_the_servers_version_and_score(make_client, database_url):
    """The client's model_version and score were stored as sent, even for a listing the server scored."""
    with make_client(database_url=database_url) as client:
        scored = client.post("/v1/score", json={"text": SCAM_AD, "store": True}).json()
        receipt = client.post(
            "/v1/feedback",
            json={"verdict": "scam", "stored_id": scored["stored_id"], "model_version": "made-up", "scam_probability": 0.01},
        ).json()
        assert receipt["model_version"] == scored["model_version"]
        assert receipt["scam_probability"] == pytest.approx(scored["scam_probability"])
        sent_score = client.post("/v1/feedback", json={"verdict": "scam", "listing": {"text": SCAM_AD}, "scam_probability": 0.5}).json()
        assert sent_score["model_version"] == scored["model_version"] and sent_score["scam_probability"] == 0.5


def test_listing_columns_are_the_listing_text_fields():
    """The stored listing columns follow model/listing.py's TEXT_FIELDS; a new field needs a column (and a migration)."""
    from lurescan.model.listing import TEXT_FIELDS
    from lurescan.serve.db import LISTING_COLUMNS, Feedback, StoredListing

    assert LISTING_COLUMNS == TEXT_FIELDS
    for table in (Feedback, StoredListing):
        assert set(TEXT_FIELDS) <= set(table.__table__.columns.keys())
