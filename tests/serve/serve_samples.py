"""Sample ads and helpers shared by the API tests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

LOCAL = ("127.0.0.1", 50123)  # a loopback client, as open mode requires

SCAM_AD = (
    "URGENT hiring! Customer service staff to work in Cambodia, salary $3000/month, no experience needed, "
    "free flight and visa. Contact us on Telegram @jobfast now."
)
LEGIT_AD = "Barista, part-time, Hanoi. Morning shifts, training provided. Apply in store or on our website."


def copy_bundle(src: Path, dst: Path, model_version: str) -> Path:
    """A copy of a bundle under another version (the manifest is not among its hashed files)."""
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["model_version"] = model_version
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst


POSTGRES_URL = os.environ.get("LURESCAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def postgres_schema(prefix: str = "lurescan_test"):
    """(URL, engine, schema) of a fresh schema on the real PostgreSQL server, dropped afterwards; the test is
    skipped (a failure under LURESCAN_NO_SKIPS=1) when the server cannot be reached."""
    import uuid

    import pytest
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:
        engine.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.__class__.__name__}")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", engine, schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        engine.dispose()
