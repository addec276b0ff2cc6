"""The ensemble: StackedClassifier's estimator API, the bundle with embedded members, and n-gram evidence."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")

from lurescan.model.bundle import BundleError, read_bundle
from lurescan.model.scoring import load_scorer
from lurescan.training.arguments import BaselineArgs, DataArgs, EnsembleArgs, TrainArgs
from lurescan.training.ensemble import main as ensemble_main
from lurescan.training.train import main as train_main


@pytest.fixture(scope="module")
def members(finetuned, synthetic_csv, tmp_path_factory):
    baseline = tmp_path_factory.mktemp("baseline") / "baseline"
    train_main(
        TrainArgs(
            out=str(baseline),
            data=DataArgs(data=[str(synthetic_csv)]),
            model=BaselineArgs(n_char_features=2**14, n_word_features=2**12, heldout=False),
            progress=False,
        )
    )
    return finetuned[0], baseline


@pytest.fixture(scope="module")
def ensemble(members, synthetic_csv, tmp_path_factory):
    transformer, baseline = members
    out = tmp_path_factory.mktemp("ensemble") / "ensemble"
    manifest = ensemble_main(
        EnsembleArgs(
            out=str(out),
            transformer=str(transformer),
            baseline=str(baseline),
            data=DataArgs(data=[str(synthetic_csv)]),
            progress=False,
        )
    )
    return out, manifest


def test_ensemble_bundle_embeds_verified_members(ensemble, members):
    out, manifest = ensemble
    bundle = read_bundle(out)
    assert bundle.kind == "ensemble"
    for name, source in zip(("transformer", "baseline"), members):
        member = read_bundle(out / name)
        assert member.model_version == manifest["members"][name]["model_version"]
        assert manifest["members"][name]["manifest_sha256"] == bundle.manifest["files"][f"{name}/manifest.json"]
        assert json.loads((source / "manifest.json").read_text())["files"] == member.manifest["files"]
    assert set(manifest["stacker"]["coefficients"]) >= {
        "transformer_logit",
        "baseline_logit",
        "rf:off_platform_contact",
    }
    assert set(manifest["members_test_metrics"]) == {"transformer", "baseline"}


def test_ensemble_scores_with_red_flags_and_ngram_evidence(ensemble, listings):
    out, _ = ensemble
    scorer = load_scorer(out)
    results = scorer.score(listings)
    assert all(0.0 <= r.scam_probability <= 1.0 for r in results)
    assert results[0].risk_level in ("high", "medium")
    evidence = [r for r in results[0].reasons if r.category == "model_evidence"]
    assert evidence, "a risky listing carries the baseline's n-grams"
    for r in evidence:
        raw = listings[0][r.field]
        assert raw[r.start : r.end] == r.text  # spans index the field as sent
    assert not [r for r in results[1].reasons if r.category == "model_evidence"] or results[1].risk_level != "low"


@pytest.mark.parametrize(
    "swapped,split_seed,message",
    [(False, 99, "another split"), (True, 13, "needs a 'transformer' bundle")],
    ids=["members-from-another-split", "swapped-member-kinds"],
)
def test_ensemble_refuses_unusable_members(members, synthetic_csv, tmp_path, swapped, split_seed, message):
    transformer, baseline = members[::-1] if swapped else members
    args = EnsembleArgs(
        out=str(tmp_path / "e"),
        transformer=str(transformer),
        baseline=str(baseline),
        data=DataArgs(data=[str(synthetic_csv)], split_seed=split_seed),
        progress=False,
    )
    with pytest.raises(BundleError, match=message):
        ensemble_main(args)
    assert not (tmp_path / "e").exists()
