"""Model cards (training/card.py) meet Hugging Face conventions: valid YAML metadata without
nulls, a licence field that tells the truth about the training data, the
datasets, no absolute local paths; held-out figures with their intervals; and say
what a reader needs: the data table, real and written ads apart, the threshold, the limits."""

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


def _overall(n: int, scams: int, pr_auc: float) -> dict:
    return {"n": n, "scams": scams, "pr_auc": pr_auc, "recall": 0.8, "false_positive_rate": 0.01, "precision": 0.9}


def _manifest(**changes) -> dict:
    """A hand-written baseline manifest: two files (one absolute), a split with real and written ads apart."""
    manifest = {
        "kind": "baseline",
        "model_version": "card-test-1",
        "created_at": "2026-12-04T10:00:00+00:00",
        "lurescan_version": "0.1.0",
        "description": "A test model.",
        "languages": ["en", "vi", "und"],
        "threshold": {"threshold": 0.61234, "rule": "target_precision", "target_precision": 0.9, "validation_precision": 0.912, "validation_recall": 0.745, "medium_risk_threshold": 0.31, "weighted": True},
        "training_data": [
            {"path": "data/corpus/en.jsonl", "rows": 120, "labels": {"0": 70, "1": 50}, "sha256": "a" * 64},
            {"path": "/home/someone/shared/data/emscad_fraud_train.csv.gz", "rows": 900, "labels": {"0": 850, "1": 50}, "sha256": "b" * 64},
        ],
        "dedup": {"exact_removed": 4, "near_removed": 3, "remove_threshold": 0.9, "conflicting_labels_removed": 1, "group_threshold": 0.6},
        "split": {"method": "grouped", "seed": 13, "counts": {"train": {"rows": 700}, "validation": {"rows": 160}, "test": {"rows": 160}}, "assignment_sha256": "c" * 64},
        "metrics": {
            "test": {
                "real": {"overall": _overall(100, 10, 0.81), "by_board": {"emscad": _overall(100, 10, 0.81)}},
                "written": {"overall": _overall(60, 30, 0.97), "by_language": {"vi": _overall(60, 30, 0.97)}},
            },
            "validation": {"overall": _overall(160, 40, 0.9)},
        },
        "libraries": {"python": "3.11.7", "scikit-learn": "1.8.0"},
    }
    manifest.update(changes)
    return manifest


def test_card_tables_name_every_training_file_without_local_paths():
    card = render_card(_manifest())
    assert "| `data/corpus/en.jsonl` | 120 | 50 | 70 | `aaaaaaaaaaaaaaaa…` |" in card
    assert "| `data/emscad_fraud_train.csv.gz` | 900 | 50 | 850 |" in card  # absolute: folder and name only
    assert "/home/someone" not in card
    assert "4 exact and 3 near duplicates removed" in card and "1 rows with\nconflicting labels dropped" in card
    assert "seed 13" in card and "`" + "c" * 64 + "`" in card


def test_card_reports_real_and_written_ads_apart_never_pooled():
    card = render_card(_manifest())
    real = card.index("### Held-out test split (grouped): real ads")
    written = card.index("### Held-out test split (grouped): written ads")
    assert real < written
    assert "| emscad | 100 | 10 | 0.81 |" in card[real:written]  # the real block's per-board table
    assert "Per language:" in card[written:] and "| vi | 60 | 30 | 0.97 |" in card[written:]
    assert "### Validation split (used to choose the threshold)" in card  # a pooled split keeps one block
    results = {r["dataset"]["type"]: {m["type"]: m["value"] for m in r["metrics"]} for r in _front(card)["model-index"][0]["results"]}
    assert results == {
        "lurescan-test-real": {"average_precision": 0.81, "recall": 0.8, "false_positive_rate": 0.01},
        "lurescan-test-written": {"average_precision": 0.97, "recall": 0.8, "false_positive_rate": 0.01},
    }


def test_card_states_the_threshold_rule_limitations_and_what_weights_hold():
    card = render_card(_manifest())
    assert "`flagged = scam_probability >= 0.6123`" in card
    assert "the lowest score reaching validation precision 0.9" in card and "each source weighted equally" in card
    assert "`medium` from 0.3100" in card
    assert "## Intended uses and limitations" in card and "A flag is a reason for review, never proof." in card
    assert "the weights hold hashed n-gram statistics only, no training text." in card
    transformer = render_card(_manifest(kind="transformer", threshold={**_manifest()["threshold"], "rule": "best_f1_fallback"}))
    assert "can memorise fragments of its training text" in transformer
    assert "best-F1 point (precision 0.9 was not reachable)" in transformer
    assert _front(card)["language"] == ["en", "vi"]  # "und" is not a language tag


def test_card_unseen_boards_rule_names_the_board_that_set_it_and_extra_sections_follow_the_evaluation():
    threshold = {**_manifest()["threshold"], "rule": "unseen_boards", "max_unseen_fpr": 0.01, "set_by_board": "topcv", "margin": -1.23456}
    card = render_card(_manifest(threshold=threshold), "\n## Ensemble details\n\nmembers here\n")
    assert "at most 0.01 (set by `topcv`; held-out margin -1.2346)" in card
    assert card.index("## Evaluation") < card.index("## Ensemble details") < card.index("## Environment")
    assert "python 3.11.7, scikit-learn 1.8.0" in card


def test_card_format_swap_lists_each_direction():
    swap = {"emscad_to_board": {"n": 40, "mean_abs_delta": 0.02, "max_abs_delta": 0.2, "mean_delta": -0.01, "crossed_threshold": 1, "flagged_before": 5, "flagged_after": 4}, "seed": 0}
    card = render_card(_manifest(metrics={**_manifest()["metrics"], "format_swap": swap}))
    assert "- emscad to board: 40 ads, mean |shift| 0.02, max 0.2, mean shift -0.01, decisions changed 1 (flagged 5 before, 4 after)" in card
    assert "### Format swap" not in render_card(_manifest())
