"""`lurescan feedback export`: the canonical training layout, readable by `lurescan train`."""

from __future__ import annotations

import json

import pandas as pd
from serve_samples import LEGIT_AD, SCAM_AD
from typer.testing import CliRunner

from lurescan.cli import app
from lurescan.serve.db import Database
from lurescan.serve.export import CANONICAL_COLUMNS, export_feedback
from lurescan.training.data import load_file


def fill(client):
    posts = [
        {
            "verdict": "scam",
            "listing": {"id": "a", "title": "CS staff", "text": SCAM_AD, "contact": "Telegram @x", "language": "en"},
        },
        {"verdict": "legitimate", "listing": {"id": "b", "description": LEGIT_AD, "requirements": "Friendly"}},
        {"verdict": "unsure", "listing": {"text": "Maybe"}},
        {"verdict": "scam", "listing": {"html": "<p>Work in <b>Cambodia</b>, Telegram @abc</p>"}},
    ]
    for body in posts:
        assert client.post("/v1/feedback", json=body).status_code == 201


def test_export_writes_the_canonical_layout_and_trains(client, tmp_path):
    fill(client)
    db = client.app.state.lurescan.db
    for suffix in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"feedback.{suffix}"
        summary = export_feedback(db, out, chunk_rows=2)
        assert (summary.rows, summary.skipped_unsure, summary.skipped_no_text) == (3, 1, 0)
        frame = (
            pd.read_csv(out, dtype=str, keep_default_na=False)
            if suffix == "csv"
            else (pd.read_json(out, lines=True, dtype=False) if suffix == "jsonl" else pd.read_parquet(out))
        )
        assert list(frame.columns[: len(CANONICAL_COLUMNS)]) == list(CANONICAL_COLUMNS)
        assert {"description", "requirements", "contact", "html"} <= set(frame.columns)
        assert "benefits" not in frame.columns  # no row had it
        assert [str(v) for v in frame["label"]] == ["1", "0", "1"]
        loaded, _record = load_file(out)
        assert len(loaded) == 3 and sorted(loaded["label"].tolist()) == [0, 1, 1]
        assert set(loaded["source"]) == {"lurescan_feedback"}


def test_export_of_an_empty_table_writes_a_header(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    db.create_tables()
    summary = export_feedback(db, tmp_path / "none.csv")
    db.dispose()
    assert summary.rows == 0
    assert (tmp_path / "none.csv").read_text().splitlines()[0] == ",".join(CANONICAL_COLUMNS)


def test_export_command(client, tmp_path):
    fill(client)
    url = client.app.state.lurescan.settings.database_url
    out = tmp_path / "fb.jsonl"
    result = CliRunner().invoke(
        app, ["feedback", "export", "--out", str(out), "--database-url", url, "--source", "board-a"]
    )
    assert result.exit_code == 0, result.output
    assert "exported 3 feedback rows" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["label"] for r in rows] == [1, 0, 1] and rows[0]["source"] == "board-a"


def test_export_command_errors_are_one_line(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "feedback",
            "export",
            "--out",
            str(tmp_path / "x.txt"),
            "--database-url",
            f"sqlite:///{tmp_path / 'a.sqlite3'}",
        ],
    )
    assert result.exit_code == 1 and "unknown format" in result.output
    result = CliRunner().invoke(
        app, ["feedback", "export", "--out", str(tmp_path / "x.csv"), "--database-url", "nosuchdb://x"]
    )
    assert result.exit_code == 1 and result.output.startswith("error:")
