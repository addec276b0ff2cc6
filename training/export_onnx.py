"""Export a fine-tuned sequence classifier to ONNX for fast CPU scoring.

    fp32: torch.onnx.export (TorchScript exporter, opset 17) -> ONNX Runtime's
          transformer optimiser (fused attention, LayerNorm, GELU)
    int8: dynamic int8 quantisation of the optimised graph

Two details matter (measured, see ../shared/NOTES.md): the attention
subgraph fuses only when the model is loaded with `attn_implementation=
"eager"` and exported with `dynamo=False`; and the quantiser needs
`extra_options={"DefaultTensorType": 1}` (FLOAT) for tensors whose type the
optimised graph leaves unstated. `optimum` is not used: it pins an older
transformers. Batch and sequence axes stay dynamic.

Whether int8 ships is decided by `choose_variant` on validation PR-AUC
(`lurescan finetune` does this; the manifest records the decision).

A checkpoint fine-tuned elsewhere (a GPU cluster with other library
versions) is exported where it will be served with

    python -m lurescan.training.export_onnx --model_dir RUN/model --out DIR --data FILE...

which reads `RUN/training.json` (written by `lurescan finetune`), checks that
the data gives the split the model was trained on, and writes the bundle
exactly as `lurescan finetune` would.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)

OUTPUT_NAME = "logits"
# onnxruntime.transformers' optimiser knows these families; others ship unoptimised.
OPTIMIZER_MODEL_TYPES = {
    "bert": "bert",
    "roberta": "bert",
    "xlm-roberta": "bert",
    "distilbert": "bert",
    "camembert": "bert",
    "electra": "bert",
    "mpnet": "bert",
}


@dataclass(frozen=True)
class ExportedModel:
    fp32_path: Path
    int8_path: Optional[Path]
    input_names: list[str]
    opset: int
    fused_operators: dict
    optimized: bool


def uses_token_type_ids(model) -> bool:
    """Does the model read segment ids? (BERT yes; RoBERTa/XLM-R have one segment type.)"""
    accepts = "token_type_ids" in inspect.signature(model.forward).parameters
    return accepts and int(getattr(model.config, "type_vocab_size", 0) or 0) > 1


def export_fp32(model_dir: Path, out_path: Path, opset: int = 17) -> list[str]:
    """TorchScript-based export with dynamic batch and sequence axes; returns the input names."""
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager").eval()
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if uses_token_type_ids(model) else [])

    class LogitsOnly(torch.nn.Module):
        """A fixed positional signature, so the graph's inputs are named and ordered."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            return self.inner(**kwargs).logits

    batch, seq = 2, 16
    dummy = (
        torch.randint(5, max(6, model.config.vocab_size - 1), (batch, seq)),
        torch.ones(batch, seq, dtype=torch.long),
    ) + ((torch.zeros(batch, seq, dtype=torch.long),) if len(names) == 3 else ())
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes[OUTPUT_NAME] = {0: "batch"}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            LogitsOnly(model),
            dummy,
            str(out_path),
            input_names=names,
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    return names


def optimize(in_path: Path, out_path: Path, model_dir: Path) -> tuple[bool, dict]:
    """ONNX Runtime's transformer optimiser; falls back to the plain graph if the family is unknown."""
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_dir)
    family = OPTIMIZER_MODEL_TYPES.get(config.model_type)
    if family is None:
        log.warning(
            "%s: no ONNX Runtime optimiser for model type %r; shipping the unoptimised graph",
            model_dir,
            config.model_type,
        )
        out_path.write_bytes(in_path.read_bytes())
        return False, {}
    optimized = optimize_model(
        str(in_path),
        model_type=family,
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
        opt_level=1,
        use_gpu=False,
    )
    optimized.save_model_to_file(str(out_path))
    stats = {k: int(v) for k, v in optimized.get_fused_operator_statistics().items() if v}
    if not stats.get("Attention") and not stats.get("MultiHeadAttention"):
        # Seen with torch 2.11 + transformers 5.17: the graph works but CPU scoring is slower.
        log.warning(
            "%s: attention did not fuse in the ONNX Runtime optimiser (library versions?); export where you serve",
            model_dir,
        )
    return True, stats


def quantize_int8(in_path: Path, out_path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # the quantiser logs a line per tensor, and advice, on the root logger
    try:
        quantize_dynamic(
            str(in_path), str(out_path), weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": 1}
        )
    finally:
        root.setLevel(level)


def export_for_serving(model_dir, out_dir, opset: int = 17, quantize: bool = True) -> ExportedModel:
    """model_dir (a saved transformers checkpoint) -> out_dir/model.fp32.onnx (+ model.int8.onnx)."""
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / "model.raw.onnx"
    fp32 = out_dir / "model.fp32.onnx"
    names = export_fp32(model_dir, raw, opset)
    optimized, stats = optimize(raw, fp32, model_dir)
    raw.unlink()
    int8 = None
    if quantize:
        int8 = out_dir / "model.int8.onnx"
        quantize_int8(fp32, int8)
    return ExportedModel(
        fp32_path=fp32, int8_path=int8, input_names=names, opset=opset, fused_operators=stats, optimized=optimized
    )


def choose_variant(fp32_pr_auc: float, int8_pr_auc: Optional[float], tolerance: float = 0.005) -> str:
    """ "int8" if it loses at most `tolerance` validation PR-AUC against fp32, else "fp32"."""
    if int8_pr_auc is None:
        return "fp32"
    return "int8" if fp32_pr_auc - int8_pr_auc <= tolerance else "fp32"


@dataclass
class ReexportArgs:
    """Arguments of `python -m lurescan.training.export_onnx` (the data arguments are `DataArgs`)."""

    model_dir: str  # a fine-tuned checkpoint: RUN/model of `lurescan finetune`
    out: str  # the bundle directory to write
    training_record: Optional[str] = None  # default: MODEL_DIR/../training.json
    model_version: Optional[str] = None
    description: str = ""
    progress: bool = True


def main(args: ReexportArgs, data, export) -> dict:
    """Checkpoint -> bundle: the second half of `lurescan finetune`, for a model trained elsewhere."""
    from lurescan.model.features import prepare_many

    from .data import frame_to_listings
    from .finetune import FinetuneArgs, ModelArgs, write_transformer_bundle
    from .train import prepare_splits

    started = time.time()
    model_dir = Path(args.model_dir)
    record_path = Path(args.training_record) if args.training_record else model_dir.parent / "training.json"
    if not record_path.is_file():
        raise ValueError(
            f"{record_path}: no training record (written by lurescan finetune next to RUN/model); pass --training_record"
        )
    record = json.loads(record_path.read_text())
    params = record.get("params", {})
    model = ModelArgs(
        base_model=record.get("base_model", {}).get("name"),
        max_length=int(params.get("model.max_length", 128)),
        header_share=float(params.get("model.header_share", 0.5)),
        tail_share=float(params.get("model.tail_share", 0.25)),
    )
    splits = prepare_splits(data, args.progress)
    assignment = splits[3].as_dict().get("assignment_sha256")
    if record.get("split_assignment_sha256") and record["split_assignment_sha256"] != assignment:
        raise ValueError(
            f"{record_path}: the model was trained on another split than this data gives; pass the training run's --data and split seed"
        )
    val = splits[5]
    finetune_args = FinetuneArgs(
        out=args.out,
        data=data,
        model=model,
        export=export,
        model_version=args.model_version,
        description=args.description,
        progress=args.progress,
    )
    return write_transformer_bundle(
        finetune_args, model_dir, splits, prepare_many(frame_to_listings(val)), record, started
    )


if __name__ == "__main__":  # pragma: no cover - thin argument parsing
    from transformers import HfArgumentParser

    from .finetune import ExportArgs
    from .train import DataArgs

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    reexport, data_args, export_args = HfArgumentParser(
        (ReexportArgs, DataArgs, ExportArgs)
    ).parse_args_into_dataclasses()
    main(reexport, data_args, export_args)
