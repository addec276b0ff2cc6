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
(`lurescan finetune` does this through transformer_bundle.py; the manifest
records the decision). Re-exporting a checkpoint trained elsewhere is
export_onnx.py.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

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
    int8_path: Path | None
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


def choose_variant(fp32_pr_auc: float, int8_pr_auc: float | None, tolerance: float = 0.005) -> str:
    """ "int8" if it loses at most `tolerance` validation PR-AUC against fp32, else "fp32"."""
    if int8_pr_auc is None:
        return "fp32"
    return "int8" if fp32_pr_auc - int8_pr_auc <= tolerance else "fp32"
