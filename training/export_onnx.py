"""Re-export a checkpoint fine-tuned elsewhere (a GPU cluster with other library versions) where
it will be served:

    python -m lurescan.training.export_onnx --model-dir RUN/model --out DIR --data FILE [--data FILE ...]

It reads `RUN/training.json` (written by `lurescan finetune`), checks that the data gives the
split the model was trained on, and writes the bundle exactly as `lurescan finetune` would
(transformer_bundle.py: the second half of finetune). The ONNX conversion itself is to_onnx.py.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from lurescan.model.features import prepare_many

from .arguments import ArgumentError, DataArgs, ExportArgs, FinetuneArgs, ModelArgs, ReexportArgs, command
from .data import frame_to_listings
from .split import prepare_splits
from .transformer_bundle import write_transformer_bundle


def main(args: ReexportArgs, data: DataArgs, export: ExportArgs) -> dict:
    """Checkpoint -> bundle: the second half of `lurescan finetune`, for a model trained elsewhere."""
    started = time.time()
    model_dir = Path(args.model_dir)
    record_path = Path(args.training_record) if args.training_record else model_dir.parent / "training.json"
    if not record_path.is_file():
        raise ArgumentError(
            f"{record_path}: no training record (written by lurescan finetune next to RUN/model); pass --training-record"
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
    assignment = splits.split.as_dict().get("assignment_sha256")
    if record.get("split_assignment_sha256") and record["split_assignment_sha256"] != assignment:
        raise ArgumentError(
            f"{record_path}: the model was trained on another split than this data gives; pass the training run's --data and split seed"
        )
    # The bundle's own fields (out, model_version, description, progress) are the ones both argument sets share.
    shared = {name: getattr(args, name) for name in ("out", "model_version", "description", "progress")}
    finetune_args = FinetuneArgs(data=data, model=model, export=export, **shared)
    return write_transformer_bundle(finetune_args, model_dir, splits, prepare_many(frame_to_listings(splits.val)), record, started)


def cli() -> None:
    """The command line, from the three argument dataclasses (HfArgumentParser's `--field_name` spellings kept)."""
    import typer

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(command(main, ReexportArgs, DataArgs, ExportArgs, doc=__doc__.split("\n\n")[0], underscore_aliases=True))
    app()


if __name__ == "__main__":  # pragma: no cover - thin argument parsing
    cli()
