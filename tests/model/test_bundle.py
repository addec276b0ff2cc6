"""Bundles: save/load round trip, and refusal of anything corrupt or tampered."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from lurescan.model import safe_state
from lurescan.model.bundle import BundleError, load_estimator, read_bundle, sha256_file
from lurescan.model.scoring import load_scorer


@pytest.fixture
def bundle_copy(small_bundle, tmp_path):
    target = tmp_path / "bundle"
    shutil.copytree(small_bundle, target)
    return target


def _rehash(bundle, name):
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"][name] = sha256_file(bundle / name)
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def test_round_trip_scores_match(small_bundle, corpus_rows):
    bundle = read_bundle(small_bundle)
    manifest = bundle.manifest
    assert manifest["kind"] == "baseline" and manifest["model_version"] == "test-corpus-baseline"
    assert set(manifest["files"]) == {"model.json", "model.safetensors", "kinds.json", "kinds.safetensors", "README.md"}
    for key in ("created_at", "training_data", "split", "threshold", "metrics", "libraries", "redflag_ruleset"):
        assert key in manifest
    assert manifest["split"]["seed"] == 13 and len(manifest["split"]["assignment_sha256"]) == 64
    assert all(len(d["sha256"]) == 64 for d in manifest["training_data"])
    card = (small_bundle / "README.md").read_text()
    assert card.startswith("---\n") and "## Training data" in card and "## Evaluation" in card

    listings = [{"title": r["title"], "text": r["text"]} for r in corpus_rows[:40]]
    model = load_estimator(bundle, "model")
    direct = model.predict_proba(listings)[:, 1]
    scored = load_scorer(small_bundle).scam_probability(listings)
    assert np.allclose(direct, scored)
    flagged = model.predict(listings)
    assert np.array_equal(flagged == 1, direct >= bundle.threshold)


def test_tampered_weights_are_refused(bundle_copy):
    path = bundle_copy / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"model.safetensors: sha256 mismatch"):
        load_scorer(bundle_copy)


def test_missing_file_and_manifest(bundle_copy, tmp_path):
    (bundle_copy / "README.md").unlink()
    with pytest.raises(BundleError, match="missing file README.md"):
        read_bundle(bundle_copy)
    with pytest.raises(BundleError, match="no such bundle directory"):
        read_bundle(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match=r"not a lurescan bundle \(no manifest.json\)"):
        read_bundle(tmp_path / "empty")


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda m: m.update(format_version=99), "bundle format version 99"),
        (lambda m: m.update(kind="mystery"), "unknown bundle kind 'mystery'"),
        (lambda m: m["files"].update({"../../etc/passwd": "0" * 64}), "points outside the bundle"),
        (lambda m: m.pop("threshold"), "manifest lacks 'threshold'"),
    ],
)
def test_bad_manifests_are_refused(bundle_copy, edit, message):
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    edit(manifest)
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=message):
        read_bundle(bundle_copy)


def test_corrupt_manifest(bundle_copy):
    (bundle_copy / "manifest.json").write_text("{not json")
    with pytest.raises(BundleError, match="corrupt manifest"):
        read_bundle(bundle_copy)


def test_untrusted_types_are_refused_even_with_matching_hashes(bundle_copy):
    # A structure file that would instantiate a type outside the allow-list.
    document = json.loads((bundle_copy / "model.json").read_text())
    document["root"] = {"__object__": "subprocess.Popen", "__id__": 0, "state": {}}
    (bundle_copy / "model.json").write_text(json.dumps(document))
    _rehash(bundle_copy, "model.json")
    with pytest.raises(BundleError, match="refuses to load untrusted type subprocess.Popen"):
        load_scorer(bundle_copy)


def test_garbage_weights_with_matching_hash(bundle_copy):
    (bundle_copy / "model.safetensors").write_bytes(b"this is not a tensor file")
    _rehash(bundle_copy, "model.safetensors")
    with pytest.raises(BundleError, match="unreadable tensor file"):
        load_scorer(bundle_copy)


def test_state_round_trip_keeps_shared_objects_and_refuses_foreign_types():
    from sklearn.linear_model import LogisticRegression

    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
    model = LogisticRegression().fit(X, [0, 1, 0, 1])
    pair = safe_state.loads(*safe_state.dumps({"a": model, "b": model, "t": (1, 2.5, None), "nan": float("nan")}))
    assert pair["a"] is pair["b"] and pair["t"] == (1, 2.5, None) and np.isnan(pair["nan"])
    assert np.allclose(pair["a"].predict_proba(X), model.predict_proba(X))
    import collections

    with pytest.raises(safe_state.StateError, match="collections.Counter is not on the trusted list"):
        safe_state.dumps(collections.Counter("abc"))
