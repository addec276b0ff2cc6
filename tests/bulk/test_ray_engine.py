"""The Ray engine on a local Ray instance (2 CPUs): same scores as the local engine, row for row.

One Ray instance serves the module (start-up takes seconds); the engine joins
it instead of starting its own. User errors are caught before Ray starts.
"""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("ray.data")

from lurescan.bulk.local_engine import score_file
from lurescan.bulk.ray_engine import RayEngineError, check_reachable, score_dataset
from lurescan.cli import app
from lurescan.model.scoring import load_scorer
from lurescan.model.tables import TableError


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def listings(corpus_rows) -> pd.DataFrame:
    """The project's corpus with a row id, plus a row with no text (scored as empty)."""
    frame = pd.DataFrame(corpus_rows)[["id", "lang", "title", "company", "location", "salary", "contact", "text"]]
    frame = pd.concat([frame, pd.DataFrame([{"id": "empty-1", "title": "", "text": ""}])], ignore_index=True)
    frame.insert(0, "row_id", range(len(frame)))
    return frame.fillna("")


def _local_scores(small_bundle, files, tmp_path) -> pd.DataFrame:
    scorer = load_scorer(small_bundle)
    parts = []
    for i, path in enumerate(files):
        out = tmp_path / f"local-{i}.parquet"
        score_file(scorer, path, out, chunk_size=500, progress=False)
        parts.append(pd.read_parquet(out))
    return pd.concat(parts, ignore_index=True)


def _assert_same_scores(local: pd.DataFrame, ray_out: pd.DataFrame, expected_rows: int) -> None:
    assert len(ray_out) == len(local) == expected_rows
    assert ray_out["row_id"].is_unique
    joined = local.merge(ray_out, on="row_id", suffixes=("_local", "_ray"), validate="one_to_one")
    assert len(joined) == expected_rows
    pd.testing.assert_series_equal(joined["scam_probability_local"], joined["scam_probability_ray"], check_names=False, check_dtype=False)
    assert (joined["flagged_local"].astype("boolean") == joined["flagged_ray"].astype("boolean")).fillna(True).all()
    assert joined["flagged_ray"].isna().sum() == joined["scam_probability_ray"].isna().sum()
    assert (joined["reasons_local"] == joined["reasons_ray"]).all()
    # The input's own columns come through untouched.
    assert (joined["text_local"] == joined["text_ray"]).all()


def test_parquet_folder_matches_local_engine(local_ray, listings, small_bundle, tmp_path):
    folder = tmp_path / "listings"
    folder.mkdir()
    files = []
    for i in range(4):
        path = folder / f"part-{i:02d}.parquet"
        listings.iloc[i::4].to_parquet(path, index=False)
        files.append(path)
    (folder / "_SUCCESS").write_text("")  # markers beside data files are skipped

    summary = score_dataset(folder, tmp_path / "scored", model=small_bundle, batch_size=200, progress=False)

    ray_out = pd.read_parquet(tmp_path / "scored")
    _assert_same_scores(_local_scores(small_bundle, files, tmp_path), ray_out, len(listings))
    assert summary.rows == len(listings)
    assert summary.unscored_empty == 1
    assert summary.flagged == int(ray_out["flagged"].fillna(False).sum()) > 0
    assert ray_out.loc[ray_out["id"] == "empty-1", "reasons"].item() == "[]"
    assert all(isinstance(r, list) for r in ray_out["reasons"].map(json.loads))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_cli_text_folders_match_local_engine(local_ray, listings, small_bundle, tmp_path, fmt):
    """CSV (one file gzipped, `;`-separated) and JSONL folders through `lurescan score --engine ray`."""
    folder = tmp_path / fmt
    folder.mkdir()
    sample = listings.sample(n=300, random_state=7)
    halves = [sample.iloc[:150], sample.iloc[150:]]
    if fmt == "csv":
        files = [folder / "a.csv.gz", folder / "b.csv"]
        for part, path in zip(halves, files):
            part.to_csv(path, index=False, sep=";")
    else:
        files = [folder / "a.jsonl", folder / "b.jsonl.gz"]
        for part, path in zip(halves, files):
            part.to_json(path, orient="records", lines=True, force_ascii=False)

    out = tmp_path / "scored"
    result = CliRunner().invoke(
        app,
        ["score", "--engine", "ray", "--input", str(folder), "--output", str(out), "--model", str(small_bundle), "--batch-size", "64", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    assert "scored 300 listings" in result.output

    ray_out = pd.read_parquet(out)
    ray_out["row_id"] = ray_out["row_id"].astype(int)
    local = _local_scores(small_bundle, files, tmp_path)
    local["row_id"] = local["row_id"].astype(int)
    _assert_same_scores(local, ray_out, 300)


def test_user_errors_fail_before_ray_starts(listings, small_bundle, tmp_path):
    with pytest.raises(TableError, match="no such file or folder"):
        score_dataset(tmp_path / "missing", tmp_path / "out", model=small_bundle)

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    listings.head(5).to_parquet(mixed / "a.parquet")
    listings.head(5).to_csv(mixed / "b.csv", index=False)
    (mixed / "README.md").write_text("not data")
    with pytest.raises(TableError, match=r"mixed formats in one folder \(1 csv, 1 parquet\)"):
        score_dataset(mixed, tmp_path / "out", model=small_bundle)

    unknown = tmp_path / "listings.xlsx"
    unknown.write_bytes(b"PK")
    with pytest.raises(TableError, match="unknown format"):
        score_dataset(unknown, tmp_path / "out", model=small_bundle)

    no_text = tmp_path / "no_text"
    no_text.mkdir()
    pd.DataFrame({"row_id": [1, 2], "price": ["1", "2"]}).to_parquet(no_text / "a.parquet")
    with pytest.raises(TableError, match="no usable text column"):
        score_dataset(no_text, tmp_path / "out", model=small_bundle, progress=False)
    (tmp_path / "no_text.jsonl").write_text('{"row_id": 1, "price": "1"}\n')
    with pytest.raises(TableError, match="no usable text column"):
        score_dataset(tmp_path / "no_text.jsonl", tmp_path / "out", model=small_bundle, progress=False)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(TableError, match="not a readable PARQUET file"):
        score_dataset(tmp_path / "broken.parquet", tmp_path / "out", model=small_bundle, progress=False)

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "old.parquet").write_bytes(b"")
    with pytest.raises(TableError, match="not an empty folder"):
        score_dataset(mixed / "a.parquet", taken, model=small_bundle)

    with pytest.raises(RayEngineError, match="cannot reach the Ray cluster at 127.0.0.1:1"):
        check_reachable("127.0.0.1:1", timeout=2)
    with pytest.raises(RayEngineError, match="bad Ray address"):
        check_reachable("nonsense")

    result = CliRunner().invoke(app, ["score", "--engine", "spark", "--input", str(mixed), "--output", str(tmp_path / "o")])
    assert result.exit_code == 1 and "--engine must be local or ray" in result.output
