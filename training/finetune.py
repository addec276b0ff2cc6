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
from dataclasses import asdict
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from transformers import TrainerCallback

from lurescan.model.features import PreparedListing, prepare_many
from lurescan.model.redflags.engine import default_engine
from lurescan.model.transformer_input import ListingEncoder

from .arguments import ArgumentError, FinetuneArgs
from .base_models import DEFAULT_BASE_MODEL, MINILM, BaseModelError, resolve_base_model
from .data import frame_to_listings
from .finish import TRANSFORMER_LIBRARIES, library_versions, run_folder
from .metrics import recall_at_fpr
from .split import prepare_splits
from .to_onnx import uses_token_type_ids
from .transformer_bundle import write_transformer_bundle

log = logging.getLogger(__name__)


def class_weights(labels: np.ndarray, how: str) -> list[float] | None:
    """ "balanced": n / (2 * n_class), so scams weigh as much as legitimate ads in the loss."""
    if how == "none":
        return None
    if how != "balanced":
        raise ArgumentError(f"--class-weighting must be 'balanced' or 'none', not {how!r}")
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
    t, m = args.training, args.model
    is_main = int(os.environ.get("RANK", "0")) == 0
    set_seed(t.seed)
    run_dir = run_folder(args.out)
    base_path = resolve_base_model(m.base_model)

    splits = prepare_splits(args.data, args.progress and is_main)
    train, val, test = splits.train, splits.val, splits.test
    log.info("rows: train %d, validation %d, test %d", len(train), len(val), len(test))
    engine = default_engine()
    train_prepared = prepare_many(frame_to_listings(train), engine)
    val_prepared = prepare_many(frame_to_listings(val), engine)
    y_train, y_val = train["label"].to_numpy(), val["label"].to_numpy()

    tokenizer = AutoTokenizer.from_pretrained(base_path)
    if getattr(tokenizer, "backend_tokenizer", None) is None:
        raise BaseModelError(
            f"{base_path}: lurescan needs a fast tokenizer (tokenizer.json) so that ONNX scoring can use `tokenizers`"
        )
    if tokenizer.pad_token_id is None:
        raise BaseModelError(f"{base_path}: the tokenizer has no padding token")
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
            raise ArgumentError(f"{training_args.output_dir}: no checkpoint to resume from")
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
        "split_assignment_sha256": splits.split.as_dict().get("assignment_sha256"),
        "epoch_metrics": epoch_history(trainer.state.log_history),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "training_seconds": round(train_seconds, 1),
        "train_samples_per_second": train_result.metrics.get("train_samples_per_second"),
        "libraries": library_versions(TRANSFORMER_LIBRARIES),
    }
    (run_dir / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    return write_transformer_bundle(args, model_dir, splits, val_prepared, record, started)


