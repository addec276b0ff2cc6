"""The shipped default model: its card and manifest tell the truth, its
threshold holds every left-out legitimate board at 1% false positives, and
`lurescan train` with the documented flags rebuilds it."""

from __future__ import annotations

import json
import shlex

import pytest
import yaml
from typer.testing import CliRunner

from lurescan.cli import app
from lurescan.model.bundle import default_bundle_path, read_bundle
from lurescan.training import build_default
from lurescan.training.arguments import DataArgs
from lurescan.training.split import prepare_splits


@pytest.fixture(scope="module")
def manifest() -> dict:
    return read_bundle(default_bundle_path()).manifest


def test_default_model_is_trained_on_all_real_data_with_emscad(manifest):
    paths = [d["path"] for d in manifest["training_data"]]
    assert any("emscad" in p for p in paths) and any("camhr" in p for p in paths)
    assert all(not p.startswith("/") for p in paths)
    assert manifest["seeds"] == {"split_seed": 13, "train_seed": 0}
    assert manifest["params"]["text_view"] == "neutral"
    assert manifest["scam_kind_heads"]


def test_threshold_holds_every_left_out_board_at_one_percent(manifest):
    threshold = manifest["threshold"]
    assert threshold["rule"] == "unseen_boards" and threshold["max_unseen_fpr"] == 0.01
    boards = manifest["heldout"]["legitimate_boards"]
    assert len(boards) >= 8
    for board, entry in boards.items():
        assert entry["false_positive_rate"]["value"] <= 0.01, board
        assert entry["false_positive_rate"]["ci95"] is not None
    assert manifest["heldout"]["scam_boards_unseen_companies"]["emscad"]["recall"]["n"] > 400


def test_card_is_valid_hub_metadata(manifest):
    card = (default_bundle_path() / "README.md").read_text("utf-8")
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["license"] == "other" and "emscad" in meta["datasets"]
    assert "None" not in card.split("---\n")[1] and "/work/" not in card and "/home/" not in card
    names = {m.get("name") for r in meta["model-index"][0]["results"] for m in r["metrics"]}
    assert "unseen companies emscad" in names


def test_documented_command_rebuilds_the_same_arguments(monkeypatch, shared_data):
    """`build_default --print-command` is a `lurescan train` command line that yields the same TrainArgs."""
    expected = build_default.default_model_args(shared_data, build_default.REPO / "data" / "corpus", build_default.REPO / "runs" / "default-model")
    command = build_default.train_command(expected)
    seen = {}
    monkeypatch.setattr("lurescan.training.train.main", lambda args: seen.setdefault("args", args))
    argv = shlex.split(command.replace("\\\n", " "))[1:]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert seen["args"] == expected


def test_split_is_the_shipped_one(manifest, shared_data, monkeypatch):
    """Same files, same seed: the same grouped split (assignment sha256) as the shipped bundle."""
    monkeypatch.chdir(build_default.REPO)
    files = [d["path"] for d in manifest["training_data"]]
    split = prepare_splits(DataArgs(data=files, split_seed=manifest["seeds"]["split_seed"]), progress=False).split
    assert split.as_dict()["assignment_sha256"] == manifest["split"]["assignment_sha256"]


@pytest.mark.slow
def test_rebuild_matches_the_shipped_threshold(tmp_path, shared_data, manifest):
    """The whole default build again (about 30 minutes on 2 cores): the same threshold to 1e-6."""
    from lurescan.training.train import main

    args = build_default.default_model_args(shared_data, build_default.REPO / "data" / "corpus", tmp_path / "rebuilt")
    rebuilt = main(args)
    assert abs(rebuilt["threshold"]["threshold"] - manifest["threshold"]["threshold"]) <= 1e-6
    assert rebuilt["split"]["assignment_sha256"] == manifest["split"]["assignment_sha256"]
    assert json.dumps(rebuilt["metrics"]["test"], sort_keys=True) == json.dumps(manifest["metrics"]["test"], sort_keys=True)
