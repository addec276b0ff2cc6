"""`train.main` with the held-out evaluation on a small multi-board table, and `evaluate` on it."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest


def _train(out, csv, **model):
    from lurescan.training.arguments import BaselineArgs, DataArgs, TrainArgs
    from lurescan.training.train import main

    params = dict(n_char_features=2**13, n_word_features=2**12, char_ngram_max=3, heldout_folds=2, heldout_jobs=1)
    return main(TrainArgs(out=str(out), data=DataArgs(data=[str(csv)]), model=BaselineArgs(**{**params, **model}), model_version="boards-test", progress=False))


@pytest.fixture(scope="module")
def boards_csv(tmp_path_factory, make_boards_table):
    path = tmp_path_factory.mktemp("boards") / "boards_text_label.csv"
    make_boards_table(seed=5, n_scam=120, n_legit=200).drop(columns=["group", "file"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory, boards_csv):
    out = tmp_path_factory.mktemp("bundle") / "b"
    return out, _train(out, boards_csv)


def test_threshold_comes_from_unseen_boards(trained):
    from lurescan.model.bundle import load_estimator, read_bundle
    from lurescan.training.heldout import margin_to_probability

    out, manifest = trained
    threshold = manifest["threshold"]
    assert threshold["rule"] == "unseen_boards" and threshold["set_by_board"] in {"topcv", "glassdoor"}
    classifier = load_estimator(read_bundle(out), "model").estimator.estimator
    assert threshold["threshold"] == pytest.approx(margin_to_probability(classifier, threshold["margin"]), abs=1e-12)
    heldout = manifest["heldout"]
    assert set(heldout["legitimate_boards"]) == {"topcv", "glassdoor"}
    for entry in heldout["legitimate_boards"].values():
        assert entry["false_positive_rate"]["value"] <= 0.01 and entry["false_positive_rate"]["ci95"][1] > 0
    emscad = heldout["scam_boards_unseen_companies"]["emscad"]["recall"]
    assert emscad["n"] > 0 and emscad["ci95"] is not None
    assert heldout["written"]["recall"]["n"] > 0
    assert manifest["seeds"] == {"split_seed": 13, "train_seed": 0} and manifest["params"]["train_seed"] == 0


def test_reports_keep_real_and_written_apart(trained):
    out, manifest = trained
    for split in ("validation", "test"):
        section = manifest["metrics"][split]
        assert set(section) <= {"real", "written"} and "overall" not in section
        real = section["real"]
        assert "written" not in real["by_board"] and real["overall"]["ci95"]["false_positive_rate"] is not None
    swap = manifest["metrics"]["format_swap"]
    assert swap["legitimate_to_emscad"]["n"] > 0 or swap["emscad_to_board"]["n"] > 0
    run = out.parent / (out.name + ".run")
    assert json.loads((run / "heldout.json").read_text())["fits"] == manifest["heldout"]["fits"]
    with gzip.open(run / "heldout_margins.csv.gz", "rt") as fh:
        margins = pd.read_csv(fh)
    assert set(margins["kind"]) == {"legit_board", "scam_companies", "written_groups"}
    test_ids = set(pd.read_csv(run / "split.csv").query("split == 'test'")["id"])
    assert not test_ids & set(margins["id"])  # held-out fits never see the test split
    card = (out / "README.md").read_text()
    assert "left out of training" in card and "real ads" in card and "written ads" in card


def test_same_seeds_same_threshold(trained, boards_csv, tmp_path):
    _, first = trained
    again = _train(tmp_path / "again", boards_csv)
    assert again["threshold"]["threshold"] == pytest.approx(first["threshold"]["threshold"], abs=1e-9)
    assert again["split"]["assignment_sha256"] == first["split"]["assignment_sha256"]


def test_target_precision_rule_and_unknown_rule(boards_csv, tmp_path):
    manifest = _train(tmp_path / "tp", boards_csv, threshold_rule="target_precision", heldout=False)
    assert manifest["threshold"]["rule"] in ("target_precision", "best_f1_fallback") and manifest["heldout"] is None
    with pytest.raises(ValueError, match="threshold_rule must be one of"):
        _train(tmp_path / "bad", boards_csv, threshold_rule="magic", heldout=False)


def test_evaluate_reports_real_and_written_apart(trained, boards_csv, tmp_path):
    from lurescan.training.arguments import EvaluateArgs
    from lurescan.training.evaluate import main as evaluate_main

    out, _ = trained
    report = evaluate_main(EvaluateArgs(data=[str(boards_csv)], model=str(out), out=str(tmp_path / "eval")))
    assert set(report) >= {"real", "written"} and "overall" not in report
    assert set(report["real"]["by_board"]) == {"emscad", "glassdoor", "topcv"}
    assert report["real"]["by_board"]["emscad"]["ci95"]["recall"] is not None
    assert (tmp_path / "eval" / "real" / "calibration.png").exists() and (tmp_path / "eval" / "written" / "calibration.png").exists()


def test_evaluate_counts_ads_flagged_by_a_decisive_rule(trained, tmp_path):
    """`lurescan evaluate` reports the API's decision: an ad with a decisive trafficking indicator is flagged
    whatever its score, and the report says how many only a rule flagged."""
    import pandas as pd

    from lurescan.model.scoring import load_scorer
    from lurescan.training.arguments import EvaluateArgs
    from lurescan.training.evaluate import main as evaluate_main

    out, _ = trained
    ad = {"title": "Office assistant", "text": "Bring your passport; the company keeps your passport for safekeeping. Good pay.", "label": 1, "source": "lurescan_corpus", "lang": "en", "kind": "overseas_lure"}
    scored = load_scorer(out).score([{"title": ad["title"], "text": ad["text"]}])[0]
    path = tmp_path / "one.csv"
    pd.DataFrame([ad, {**ad, "title": "Accountant", "text": "Prepare monthly reports in Excel. Apply on our website.", "label": 0, "kind": "overseas_lure"}]).to_csv(path, index=False)
    report = evaluate_main(EvaluateArgs(data=[str(path)], model=str(out)))
    written = report["written"]["overall"]
    assert written["recall"] == 1.0 and scored.flagged
    assert written["flagged_by_rule"]["scams"] == (0 if scored.scam_probability >= scored.threshold else 1)
    assert set(report["written"]["by_kind"]) == {"overseas_lure"}
