"""Scoring with a fine-tuned transformer exported to ONNX: onnxruntime + tokenizers only.

A "transformer" bundle holds `model.onnx` (fp32 or dynamic int8, whichever
`lurescan finetune` shipped), `tokenizer.json`, and in its manifest the
input layout (`model/transformer_input.py`), the pad id and the Platt
calibration of the logit margin fitted on validation data. No torch and no
transformers are imported here, so `pip install 'lurescan[onnx]'` scores it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .bundle import Bundle, BundleError
from .features import PreparedListing
from .transformer_input import INPUT_FORMAT_VERSION, ListingEncoder

DEFAULT_BATCH_SIZE = 32


def batch_size_for(variant: str) -> int:
    """Rows per ONNX run for an exported variant.

    Dynamic int8 quantisation scales activations per run, so an int8 score
    would depend on which other listings share the batch (seen: up to 0.22).
    int8 therefore scores one listing per run: the same listing always gets
    the same score, and with no padding it costs no more CPU per listing.
    """
    return 1 if variant == "int8" else DEFAULT_BATCH_SIZE


def platt(margins: np.ndarray, calibration: dict | None) -> np.ndarray:
    """P(scam) from the logit margin (logit_scam - logit_legit) and a fitted Platt map."""
    margins = np.asarray(margins, dtype=np.float64)
    slope, intercept = (1.0, 0.0) if not calibration else (float(calibration["slope"]), float(calibration["intercept"]))
    return 1.0 / (1.0 + np.exp(-(slope * margins + intercept)))


class OnnxListingClassifier:
    """An ONNX sequence classifier over listings, batched and length-sorted for CPU speed."""

    def __init__(
        self,
        onnx_path,
        encoder: ListingEncoder,
        pad_id: int,
        calibration: dict | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
    ):
        import onnxruntime as ort

        options = ort.SessionOptions()
        threads = threads if threads is not None else int(os.environ.get("LURESCAN_ORT_THREADS", "0"))
        options.intra_op_num_threads = threads  # 0: one per physical core
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.encoder = encoder
        self.pad_id = int(pad_id)
        self.calibration = calibration
        self.batch_size = int(batch_size)

    def margins(self, prepared: Sequence[PreparedListing]) -> tuple[np.ndarray, list[bool]]:
        """Logit margins and whether each listing was cut to fit `max_length`."""
        encoded = self.encoder.encode(prepared)
        margins = np.zeros(len(encoded))
        order = np.argsort([len(e.input_ids) for e in encoded], kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encoded[i].input_ids) for i in rows)
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for k, i in enumerate(rows):
                n = len(encoded[i].input_ids)
                ids[k, :n] = encoded[i].input_ids
                types[k, :n] = encoded[i].token_type_ids
                mask[k, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            logits = self.session.run(["logits"], {name: feeds[name] for name in self.input_names})[0]
            margins[rows] = logits[:, 1] - logits[:, 0]
        return margins, [e.truncated for e in encoded]

    def predict_proba(self, prepared: Sequence[PreparedListing]) -> np.ndarray:
        """[P(legitimate), P(scam)] per listing, as scikit-learn classifiers return them."""
        p = self.scam_probability(prepared)
        return np.column_stack([1.0 - p, p])

    def scam_probability(self, prepared: Sequence[PreparedListing]) -> np.ndarray:
        """P(scam) per listing; marks `truncated` on listings the model read only partly."""
        if not prepared:
            return np.zeros(0)
        margins, truncated = self.margins(prepared)
        for p, cut in zip(prepared, truncated):
            # The Scorer reports this flag: "only the head and tail were scored".
            p.truncated = p.truncated or cut
        return platt(margins, self.calibration)


def classifier_from_bundle(
    bundle: Bundle, batch_size: int | None = None, threads: int | None = None
) -> OnnxListingClassifier:
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as exc:
        raise BundleError(
            f"{bundle.path}: scoring a transformer bundle needs onnxruntime and tokenizers: pip install 'lurescan[onnx]'"
        ) from exc
    spec = bundle.manifest.get("input") or {}
    if spec.get("input_format_version") != INPUT_FORMAT_VERSION:
        raise BundleError(
            f"{bundle.path}: input layout version {spec.get('input_format_version')!r}; this lurescan builds version {INPUT_FORMAT_VERSION}; re-run lurescan finetune"
        )
    encoder = ListingEncoder.from_file(
        bundle.file("tokenizer.json"),
        max_length=spec["max_length"],
        header_share=spec["header_share"],
        tail_share=spec["tail_share"],
    )
    try:
        return OnnxListingClassifier(
            bundle.file("model.onnx"),
            encoder,
            spec["pad_id"],
            bundle.manifest.get("calibration"),
            batch_size=batch_size or batch_size_for((bundle.manifest.get("onnx") or {}).get("variant", "fp32")),
            threads=threads,
        )
    except Exception as exc:  # onnxruntime raises its own types for a damaged graph
        raise BundleError(
            f"{bundle.path / 'model.onnx'}: cannot load ONNX model ({type(exc).__name__}: {exc})"
        ) from exc
