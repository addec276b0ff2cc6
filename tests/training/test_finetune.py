"""A real fine-tune of a tiny local BERT: train, resume, export to ONNX, score through the bundle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")

from lurescan.model.bundle import read_bundle
from lurescan.model.features import prepare_many
from lurescan.model.scoring import load_scorer
from lurescan.model.transformer_scorer import OnnxListingClassifier, classifier_from_bundle
from lurescan.training.to_onnx import choose_variant
from lurescan.training.transformer_bundle import fit_platt, torch_margins


def test_finetune_writes_a_verified_transformer_bundle(finetuned):
    out, first, manifest = finetuned
    bundle = read_bundle(out)
    assert bundle.kind == "transformer"
    assert set(bundle.manifest["files"]) == {"model.onnx", "tokenizer.json", "README.md"}
    assert manifest["onnx"]["variant"] in ("fp32", "int8")
    assert set(manifest["onnx"]["variants"]) == {"fp32", "int8"}
    assert manifest["onnx"]["fused_operators"].get("Attention", 0) >= 1  # eager attention + TorchScript export fuses
    assert manifest["input"]["max_length"] == 48 and manifest["input"]["input_names"][:2] == [
        "input_ids",
        "attention_mask",
    ]
    assert manifest["split"]["assignment_sha256"] == first["split"]["assignment_sha256"]
    assert 0.0 <= manifest["threshold"]["threshold"] <= 1.0
    assert manifest["metrics"]["test"]["overall"]["n"] > 0
    assert "## Transformer details" in (out / "README.md").read_text()


def test_resume_keeps_the_metrics_of_every_evaluation(finetuned):
    out, first, second = finetuned
    assert [row["step"] for row in first["epoch_metrics"]] == [2]
    assert [row["step"] for row in second["epoch_metrics"]] == [2, 4]
    on_disk = json.loads((Path(str(out) + ".run") / "epoch_metrics.json").read_text())
    assert [row["step"] for row in on_disk] == [2, 4]
    assert all("pr_auc" in row for row in on_disk)


def test_onnx_fp32_agrees_with_pytorch(finetuned, listings):
    from transformers import AutoModelForSequenceClassification

    out, _, manifest = finetuned
    run = Path(str(out) + ".run")
    model = AutoModelForSequenceClassification.from_pretrained(run / "model")
    onnx = OnnxListingClassifier(
        run / "onnx" / "model.fp32.onnx", classifier_from_bundle(read_bundle(out)).encoder, manifest["input"]["pad_id"]
    )
    prepared = prepare_many(listings)
    reference = torch_margins(model, onnx.encoder, prepared, manifest["input"]["pad_id"])
    exported, truncated = onnx.margins(prepared)
    np.testing.assert_allclose(exported, reference, atol=1e-4)
    assert truncated == [True, False, False]
    assert manifest["onnx"]["fp32_vs_pytorch_max_abs_prob_diff"] < 1e-4


def test_transformer_bundle_scores_through_load_scorer(finetuned, listings):
    out, _, manifest = finetuned
    scorer = load_scorer(out)
    results = scorer.score(listings)
    assert [0.0 <= r.scam_probability <= 1.0 for r in results] == [True] * 3
    assert results[0].truncated and not results[2].truncated
    assert results[0].model_version == manifest["model_version"]
    assert any(r.category == "off_platform_contact" for r in results[0].reasons)


def test_scoring_a_transformer_bundle_needs_no_torch(finetuned):
    out, _, _ = finetuned
    code = (
        "import sys; from lurescan.model.scoring import load_scorer;"
        f"s = load_scorer({str(out)!r}); p = s.scam_probability([{{'text': 'free flight, contact telegram'}}]);"
        "assert 0 <= p[0] <= 1;"
        "bad = [m for m in ('torch', 'transformers', 'datasets') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_tampered_onnx_is_refused(finetuned, tmp_path):
    import shutil

    from lurescan.model.bundle import BundleError

    out, _, _ = finetuned
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    with open(copy / "model.onnx", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(BundleError, match="sha256 mismatch"):
        load_scorer(copy)


def test_int8_ships_only_within_tolerance():
    assert choose_variant(0.950, 0.946) == "int8"
    assert choose_variant(0.950, 0.944) == "fp32"
    assert choose_variant(0.950, None) == "fp32"
    assert choose_variant(0.90, 0.92) == "int8"


def test_platt_stays_finite_on_separable_scores():
    margins = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])
    fit = fit_platt(margins, np.array([0, 0, 0, 1, 1, 1]))
    assert 0 < fit["slope"] < 10
    assert fit["method"] == "platt"


def test_cli_finetune_refuses_a_file_as_base_model(tmp_path, synthetic_csv):
    from typer.testing import CliRunner

    from lurescan.cli import app

    not_a_model = tmp_path / "weights.bin"
    not_a_model.write_bytes(b"x")
    result = CliRunner().invoke(
        app, ["finetune", "--data", str(synthetic_csv), "--out", str(tmp_path / "b"), "--base-model", str(not_a_model)]
    )
    assert result.exit_code == 1
    assert "is a file" in result.output
    assert not (tmp_path / "b").exists()


def test_reexport_from_a_checkpoint_rebuilds_the_bundle(finetuned, synthetic_csv, tmp_path):
    """A checkpoint trained elsewhere (a GPU cluster) is exported where it is served."""
    from lurescan.training.arguments import DataArgs, ExportArgs, ReexportArgs
    from lurescan.training.export_onnx import main as reexport_main

    out, _, trained = finetuned
    run = Path(str(out) + ".run")
    manifest = reexport_main(
        ReexportArgs(model_dir=str(run / "model"), out=str(tmp_path / "re"), progress=False),
        DataArgs(data=[str(synthetic_csv)]),
        ExportArgs(),
    )
    assert manifest["split"]["assignment_sha256"] == trained["split"]["assignment_sha256"]
    assert manifest["epoch_metrics"] == trained["epoch_metrics"] and manifest["input"]["max_length"] == 48
    assert load_scorer(tmp_path / "re").scam_probability([{"text": "free flight"}]).shape == (1,)
    with pytest.raises(ValueError, match="another split"):
        reexport_main(
            ReexportArgs(model_dir=str(run / "model"), out=str(tmp_path / "x"), progress=False),
            DataArgs(data=[str(synthetic_csv)], split_seed=7),
            ExportArgs(),
        )


@pytest.mark.slow
def test_torchrun_two_cpu_processes_train_data_parallel(tiny_bert, synthetic_csv, tmp_path):
    """`torchrun --nproc_per_node 2 -m lurescan finetune` without code changes: one bundle, world size 2."""
    import shutil

    torchrun = shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun not on PATH")
    out = tmp_path / "ddp"
    command = [
        torchrun,
        "--nproc_per_node",
        "2",
        "-m",
        "lurescan",
        "finetune",
        "--data",
        str(synthetic_csv),
        "--out",
        str(out),
    ]
    command += [
        "--base-model",
        str(tiny_bert),
        "--max-length",
        "48",
        "--max-steps",
        "4",
        "--eval-steps",
        "2",
        "--batch-size",
        "4",
        "--no-progress",
    ]
    subprocess.run(command, check=True, timeout=300, cwd=tmp_path, capture_output=True)
    manifest = read_bundle(out).manifest
    assert manifest["params"]["world_size"] == 2
    assert [row["step"] for row in manifest["epoch_metrics"]] == [2, 4]
