"""The closing step every trainer shares: the manifest's common half, the bundle with its card,
the run folder beside it and the printed summary, so the three bundle kinds cannot drift apart
in what they record or where they put it."""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

from lurescan import __version__
from lurescan.model.bundle import write_bundle

from .card import render_card
from .split import Splits

BASE_LIBRARIES = ("lurescan", "scikit-learn", "numpy", "scipy", "safetensors", "pandas", "py3langid")
TRANSFORMER_LIBRARIES = ("torch", "transformers", "datasets", "accelerate", "tokenizers", "onnx", "onnxruntime")


def library_versions(extra: tuple[str, ...] = ()) -> dict:
    """Python and the installed versions of the libraries a bundle depends on (those installed)."""
    out = {"python": platform.python_version()}
    for name in BASE_LIBRARIES + extra:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def run_folder(bundle: str | Path) -> Path:
    """`OUT.run/`, beside the bundle: what the run measured, and its checkpoints."""
    return Path(str(bundle) + ".run")


def finish_training(
    kind: str,
    args,
    splits: Splits,
    *,
    description: str,
    threshold: dict,
    metrics: dict,
    details: dict,
    files: dict,
    run_files: dict,
    headline: str,
    tables: str = "",
    card_sections: Callable[[dict], str] | None = None,
    split_columns: list[str] | None = None,
) -> dict:
    """Write the bundle (manifest, files, card) and its run folder, print the summary; return the manifest.

    `args.model_version` and `args.description` (when the arguments have one) override the
    defaults; `details` is the kind's own part of the manifest, `card_sections` its part of the card; `run_files` maps file names in
    the run folder to JSON values or tables (`.csv`/`.csv.gz`); `split_columns` writes the
    split assignment (`split.csv`) with those columns.
    """
    created = datetime.now(timezone.utc)
    manifest = {
        "kind": kind,
        "model_version": args.model_version or f"{kind}-{created:%Y%m%d-%H%M%S}",
        "created_at": created.isoformat(timespec="seconds"),
        "lurescan_version": __version__,
        "description": getattr(args, "description", "") or description,
        "threshold": threshold,
        "metrics": metrics,
        **splits.manifest_fields(),
        **details,
    }
    bundle = write_bundle(args.out, manifest, files, render_card(manifest, card_sections(manifest) if card_sections else ""))
    run_dir = run_folder(bundle)
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, content in run_files.items():
        if isinstance(content, pd.DataFrame):
            content.to_csv(run_dir / name, index=False)
        else:
            (run_dir / name).write_text(json.dumps(content, indent=2) + "\n")
    if split_columns:
        splits.data[split_columns].to_csv(run_dir / "split.csv", index=False)
    if tables:
        print(tables)
    print(f"\nbundle: {bundle}  {headline}  run files: {run_dir}")
    return manifest
