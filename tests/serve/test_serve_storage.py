"""Storage that never drops a verdict it acknowledged and never acknowledges
what it cannot keep, the same on SQLite and PostgreSQL (issue 15): NUL bytes
stored (as U+FFFD), over-long or out-of-range values a typed 422, never 500;
a database that cannot be written fails readiness; `:memory:` refused."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from lurescan.serve.db import Database, Feedback, StoredListing
from serve_samples import SCAM_AD
from sqlalchemy import select

POSTGRES_URL = os.environ.get("LURESCAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'storage.sqlite3'}"
        return
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means skip
        engine.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.__class__.__name__}")
    schema = f"lurescan_test_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        engine.dispose()


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
