"""The local engine: one pass over the file, in one direction, rows out in input order."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import lurescan.bulk.local_engine as local_engine
import lurescan.model.tables as tables
from lurescan.bulk.local_engine import score_file
from lurescan.model.scoring import load_scorer
from lurescan.model.tables import TableError


@pytest.fixture(scope="module")
def scorer(small_bundle):
    return load_scorer(small_bundle)


@pytest.fixture(scope="module")
def frame(corpus_rows) -> pd.DataFrame:
    rows = corpus_rows[::5][:40]
    return pd.DataFrame({"ref": [f"R{i:03d}" for i in range(len(rows))], "title": [r["title"] for r in rows], "text": [r["text"] for r in rows]})


def _spy(monkeypatch, name: str) -> list:
    """Record the first argument of every call to tables.<name>, wherever it is called from."""
    calls: list = []
    real = getattr(tables, name)

    def spy(path, *args, **kwargs):
        calls.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(tables, name, spy)
    monkeypatch.setattr(local_engine, name, spy)
    return calls


@pytest.mark.parametrize("name,sep", [("in.csv", ";"), ("in.tsv", "\t"), ("in.jsonl", None), ("in.parquet", None)])
def test_format_and_delimiter_are_worked_out_once(scorer, frame, tmp_path, monkeypatch, name, sep):
    src, dst = tmp_path / name, tmp_path / f"out-{name}"
    if name.endswith(("csv", "tsv")):
        frame.to_csv(src, index=False, sep=sep)
    elif name.endswith("jsonl"):
        frame.to_json(src, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(src, index=False)
    formats, separators = _spy(monkeypatch, "detect_format"), _spy(monkeypatch, "sniff_separator")

    score_file(scorer, src, dst, chunk_size=7, progress=False)

    assert sorted(formats) == sorted([str(src), str(dst)])
    assert separators == ([str(src)] if sep else [])
    if sep:  # the output keeps the input's delimiter
        assert pd.read_csv(dst, sep=sep, dtype=str)["ref"].tolist() == frame["ref"].tolist()


def test_the_scorer_runs_once_per_chunk(scorer, frame, tmp_path, monkeypatch):
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    sizes = []
    real = scorer.score
    monkeypatch.setattr(scorer, "score", lambda listings, **kw: sizes.append(len(listings)) or real(listings, **kw))

    summary = score_file(scorer, src, tmp_path / "out.csv", chunk_size=7, progress=False)

    assert len(sizes) == math.ceil(len(frame) / 7) and sum(sizes) == len(frame) == summary["rows"]


def test_workers_keep_input_order_and_scores(scorer, frame, tmp_path):
    src = tmp_path / "in.parquet"
    frame.to_parquet(src, index=False)
    outs = {}
    for workers in (1, 3):
        dst = tmp_path / f"out-{workers}.parquet"
        summary = score_file(scorer, src, dst, chunk_size=4, progress=False, workers=workers)
        assert summary["rows"] == len(frame)
        outs[workers] = pd.read_parquet(dst)
    pd.testing.assert_frame_equal(outs[1], outs[3])
    assert outs[3]["ref"].tolist() == frame["ref"].tolist()


def test_a_failure_mid_file_leaves_no_output(scorer, frame, tmp_path, monkeypatch):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(src, index=False)
    calls = []
    real = scorer.score

    def fail_second(listings, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return real(listings, **kw)

    monkeypatch.setattr(scorer, "score", fail_second)
    with pytest.raises(RuntimeError, match="boom"):
        score_file(scorer, src, dst, chunk_size=7, progress=False)
    assert not dst.exists() and not list(tmp_path.glob("*.part"))


def test_refuses_bad_arguments_before_writing(scorer, frame, tmp_path):
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        score_file(scorer, src, tmp_path / "out.csv", workers=0)
    with pytest.raises(TableError, match="would overwrite the input"):
        score_file(scorer, src, src)
    with pytest.raises(TableError, match="unknown format"):
        score_file(scorer, src, tmp_path / "out.xlsx")
    (tmp_path / "blank.jsonl").write_text("\n\n")
    with pytest.raises(TableError, match="no rows to score"):
        score_file(scorer, tmp_path / "blank.jsonl", tmp_path / "out.csv", progress=False)
    assert not (tmp_path / "out.csv").exists() and not list(tmp_path.glob("*.part"))
