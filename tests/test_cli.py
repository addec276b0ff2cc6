"""The `lurescan` command end to end on small fixtures."""

from __future__ import annotations

import functools
import json
import operator

import pandas as pd
import pytest
from typer.testing import CliRunner

from lurescan.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def listings_frame(corpus_rows):
    rows = corpus_rows[::7][:60]
    return pd.DataFrame(
        {
            "listing_ref": [f"L{i:03d}" for i in range(len(rows))],
            "title": [r["title"] for r in rows],
            "text": [r["text"] for r in rows],
            "price_hint": list(range(len(rows))),
        }
    )


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("lurescan ")


def test_train_evaluate_score_end_to_end(tmp_path, corpus_files, listings_frame):
    out = tmp_path / "bundle"
    result = run("train", *functools.reduce(operator.iadd, (["--data", f] for f in corpus_files[:6]), []), "--out", out, "--no-progress", "--model-version", "cli-test", "--heldout-folds", 2, "--train-seed", 3)
    assert result.exit_code == 0, result.output
    assert (out / "manifest.json").exists() and (tmp_path / "bundle.run" / "split.csv").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == {"split_seed": 13, "train_seed": 3}
    # corpus only: no legitimate board to leave out, so the validation rule, and it says why
    assert manifest["threshold"]["rule"] == "target_precision" and manifest["threshold"]["fallback_reason"]
    assert manifest["heldout"]["written"]["recall"]["ci95"] and (tmp_path / "bundle.run" / "heldout_margins.csv.gz").exists()
    assert set(manifest["metrics"]["test"]) == {"written"}

    eval_dir = tmp_path / "eval"
    mixed = next(f for f in corpus_files if f.name == "zh.jsonl")  # scams and honest ads, unseen in training
    result = run("evaluate", "--model", out, "--data", mixed, "--out", eval_dir)
    assert result.exit_code == 0, result.output
    report = json.loads((eval_dir / "metrics.json").read_text())
    assert set(report) >= {"written"} and "real" not in report and "overall" not in report  # never pooled
    written = report["written"]
    for key in ("pr_auc", "roc_auc", "precision", "recall", "f1", "recall_at_1pct_fpr", "brier", "ece", "confusion_matrix", "ci95", "few"):
        assert key in written["overall"]
    assert written["overall"]["ci95"]["recall"] and written["by_language"] and written["by_board"] == {"written": written["by_board"]["written"]}
    assert (eval_dir / "pr_curve.png").stat().st_size > 1000 and (eval_dir / "calibration.png").exists()

    for suffix in ("csv", "jsonl", "parquet"):
        src = tmp_path / f"in.{suffix}"
        if suffix == "csv":
            listings_frame.to_csv(src, index=False)
        elif suffix == "jsonl":
            listings_frame.to_json(src, orient="records", lines=True, force_ascii=False)
        else:
            listings_frame.to_parquet(src)
        dst = tmp_path / f"out.{suffix}"
        result = run("score", "--model", out, "--input", src, "--output", dst, "--chunk-size", 16, "--no-progress")
        assert result.exit_code == 0, result.output
        scored = pd.read_parquet(dst) if suffix == "parquet" else (pd.read_csv(dst, dtype={"listing_ref": str}) if suffix == "csv" else pd.read_json(dst, lines=True))
        assert list(scored.columns) == [*listings_frame.columns, "scam_probability", "flagged", "categories", "category_flags", "decided_by", "reasons"]
        assert scored["listing_ref"].tolist() == listings_frame["listing_ref"].tolist()
        assert scored["text"].tolist() == listings_frame["text"].tolist()
        threshold = json.loads((out / "manifest.json").read_text())["threshold"]["threshold"]
        decided = scored["decided_by"].map(lambda v: bool(json.loads(v)))
        assert ((scored["scam_probability"] >= threshold) | decided == scored["flagged"].astype(bool)).all()
        assert all(set(json.loads(c)) == set(json.loads(f)) for c, f in zip(scored["categories"], scored["category_flags"]))
        n_reasons = 0
        for row, reasons in zip(listings_frame.to_dict("records"), scored["reasons"]):
            for reason in json.loads(reasons):
                assert row[reason["field"]][reason["start"] : reason["end"]] == reason["text"]
                n_reasons += 1
        assert n_reasons > 10


def test_score_text_prints_json(small_bundle):
    result = run("score", "--model", small_bundle, "--text", "Việc nhẹ lương cao 30tr, bao vé máy bay, sang Campuchia làm CSKH, liên hệ Telegram @vieclam_kh")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert {"scam_probability", "flagged", "reasons", "language", "model_version"} <= set(payload)
    assert payload["language"] == "vi"
    assert payload["categories"]["overseas_lure"] > 0 and set(payload["categories"]) == set(payload["category_flags"])


def test_score_board_country_makes_a_local_ad_local(small_bundle, tmp_path):
    """The same ad, on a Cambodian board for readers there, keeps its lures but loses the destination reason."""
    ad = "Customer service in Phnom Penh. Salary $1,500/month, no experience needed, housing provided. Telegram @hr_pp"
    src = tmp_path / "in.csv"
    pd.DataFrame({"text": [ad], "language": ["vi"]}).to_csv(src, index=False)
    categories = {}
    for board in (None, "KH"):
        dst = tmp_path / f"out-{board}.csv"
        result = run("score", "--model", small_bundle, "--input", src, "--output", dst, "--no-progress", *(["--board-country", board] if board else []))
        assert result.exit_code == 0, result.output
        reasons = json.loads(pd.read_csv(dst)["reasons"][0])
        categories[board] = {r["category"] for r in reasons}
    assert "high_risk_destination" in categories[None] and "high_risk_destination" not in categories["KH"]
    assert "pay_out_of_line" in categories["KH"]


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda d: None, "no such file"),
        (lambda d: (d / "in.xlsx").write_text("x"), "unknown format"),
        (lambda d: pd.DataFrame({"price": [1]}).to_csv(d / "in.csv", index=False), "no usable text column"),
    ],
)
def test_score_bad_input_leaves_no_output(tmp_path, small_bundle, make, message):
    make(tmp_path)
    src = next(iter(tmp_path.glob("in.*")), tmp_path / "in.csv")
    dst = tmp_path / "scored.csv"
    result = run("score", "--model", small_bundle, "--input", src, "--output", dst, "--no-progress")
    assert result.exit_code == 1
    assert message in result.output and str(src.name) in result.output
    assert not dst.exists() and not list(tmp_path.glob("*.part"))


def test_score_refuses_tampered_bundle(tmp_path, small_bundle):
    import shutil

    bundle = tmp_path / "b"
    shutil.copytree(small_bundle, bundle)
    (bundle / "model.safetensors").write_bytes(b"tampered")
    result = run("score", "--model", bundle, "--text", "hello there, this is an ad")
    assert result.exit_code == 1 and "sha256 mismatch" in result.output


@pytest.mark.parametrize(
    "rows,message",
    [
        ([{"text": "ad one", "label": 0}, {"text": "ad two", "label": 7}], "labels must be 0 (legitimate) or 1 (scam)"),
        ([{"text": "ad one", "label": 1}, {"text": "ad two", "label": 1}], "all 2 rows are scams (1)"),
        ([{"text": "", "label": 1}], "every row has empty text"),
    ],
)
def test_train_bad_data(tmp_path, rows, message):
    src = tmp_path / "train.csv"
    pd.DataFrame(rows).to_csv(src, index=False)
    out = tmp_path / "bundle"
    result = run("train", "--data", src, "--out", out, "--no-progress")
    assert result.exit_code == 1
    assert message in result.output and "train.csv" in result.output
    assert not out.exists()


def test_train_missing_file(tmp_path):
    result = run("train", "--data", tmp_path / "missing.csv", "--out", tmp_path / "b")
    assert result.exit_code == 1 and "missing.csv: no such file" in result.output


def test_score_uses_the_available_cores_by_default(small_bundle, tmp_path, listings_frame, monkeypatch):
    """No --workers: one worker per core this process may use (its affinity mask)."""
    import lurescan.bulk.local_engine as local_engine
    from lurescan.cli import available_cores

    seen = {}
    real = local_engine.score_file
    monkeypatch.setattr(local_engine, "score_file", lambda *a, **k: seen.setdefault("workers", k["workers"]) and real(*a, **k))
    src = tmp_path / "in.csv"
    listings_frame.to_csv(src, index=False)
    result = run("score", "--model", small_bundle, "--input", src, "--output", tmp_path / "out.csv", "--no-progress")
    assert result.exit_code == 0, result.output
    assert seen["workers"] == available_cores() >= 1
    assert len(pd.read_csv(tmp_path / "out.csv")) == len(listings_frame)
