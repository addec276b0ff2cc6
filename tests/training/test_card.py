"""Model cards meet Hugging Face conventions: valid YAML metadata without
nulls, a licence field that tells the truth about the training data, the
datasets, no absolute local paths; held-out figures with their intervals."""

from __future__ import annotations

import json

import yaml
from lurescan.training.card import render_card


def _front(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def _walk(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    else:
        yield value


def test_card_metadata_is_valid_and_honest(small_bundle):
    manifest = json.loads((small_bundle / "manifest.json").read_text())
    card = render_card(manifest)
    meta = _front(card)
    assert meta["license"] == "other" and meta["license_name"] and meta["license_link"].startswith("https://")
    assert meta["datasets"] and meta["library_name"] == "lurescan"
    assert None not in list(_walk(meta)) and "None" not in card.split("---\n")[1]
    assert "/work/" not in card and "/tmp/" not in card and "/home/" not in card
    assert "## How the written corpus was made" in card


def test_card_reports_held_out_boards_with_intervals(small_bundle):
    manifest = json.loads((small_bundle / "manifest.json").read_text())
    manifest["heldout"] = {
        "protocol": "each legitimate board left out",
        "fits": 3,
        "legitimate_boards": {"camhr": {"false_positive_rate": {"value": 0.0067, "ci95": [0.004, 0.01], "n": 3000, "few": False}}},
        "scam_boards_unseen_companies": {"emscad": {"recall": {"value": 0.6, "ci95": [0.55, 0.65], "n": 500, "few": False}}},
        "written": {"recall": {"value": 0.7, "ci95": [0.6, 0.8], "n": 20, "few": True}},
    }
    card = render_card(manifest)
    assert "legitimate board `camhr` | false-positive rate | 0.0067 [0.004, 0.01] (n=3000)" in card
    assert "(n=20, few)" in card
    metrics = {m["name"]: m["value"] for r in _front(card)["model-index"][0]["results"] for m in r["metrics"] if "name" in m}
    assert metrics == {"left-out board camhr": 0.0067, "unseen companies emscad": 0.6}
