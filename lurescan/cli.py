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
from typing import Annotated

import typer

from lurescan.model.errors import LurescanError
from lurescan.training.arguments import EnsembleArgs, EvaluateArgs, FinetuneArgs, TrainArgs, command

from . import __version__

app = typer.Typer(
    name="lurescan",
    help="Score job ads for the overseas scam-compound recruitment pattern; train and evaluate the models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def friendly_errors(func):
    """Turn the errors a user can cause (the project's own, `LurescanError`) into one clear line and
    exit code 1; anything else is a bug and keeps its traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except LurescanError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


def dataclass_command(name: str, run, *classes, doc: str):
    """Register `lurescan NAME`: its options are the fields of the argument dataclasses (training/arguments.py)."""
    app.command(name)(friendly_errors(command(run, *classes, doc=doc)))


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


def _train(args: TrainArgs) -> None:
    from lurescan.training import train

    if args.model.text_view not in ("neutral", "raw"):
        raise typer.BadParameter("--text-view must be neutral or raw")
    train.main(args)


def _evaluate(args: EvaluateArgs) -> None:
    from lurescan.training import evaluate

    evaluate.main(args)


dataclass_command("train", _train, TrainArgs, doc="Train the baseline classifier (grouped split, calibrated; threshold from held-out boards) and write a bundle.")
dataclass_command(
    "evaluate",
    _evaluate,
    EvaluateArgs,
    doc="Evaluate a bundle: PR-AUC, recall at 1% FPR, P/R/F1 with 95% intervals, calibration; real and written ads apart, per language, board and source.",
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
    input: Annotated[str | None, typer.Option("--input", "-i", help="Listings: CSV, JSONL or Parquet (gzip allowed); with --engine ray also a folder or a URI (s3://...).")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Scored copy of the input (format from its suffix); with --engine ray a folder of Parquet files.")] = None,
    text: Annotated[str | None, typer.Option("--text", "-t", help="Score one ad given as text; prints JSON.")] = None,
    model: Annotated[Path | None, typer.Option("--model", "-m", help="Bundle directory (default: the bundled model).")] = None,
    threshold: Annotated[float | None, typer.Option(help="Override the bundle's threshold.")] = None,
    board_country: Annotated[str | None, typer.Option(help="ISO 3166-1 code of the board's country (KH): its ads for work there are local. A board_country column wins.")] = None,
    chunk_size: Annotated[int, typer.Option(help="Rows per chunk (memory is bounded by this).")] = 2000,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes scoring chunks in parallel (output stays in input order; default: the cores this process may use); local engine only.")] = None,
    sep: Annotated[str | None, typer.Option(help="CSV delimiter (default: detected).")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    engine: Annotated[str, typer.Option(help="local (this process, streaming) or ray (Ray Data: a cluster, or Ray started here).")] = "local",
    address: Annotated[str | None, typer.Option(help="Ray cluster address (default: RAY_ADDRESS, else start Ray here). --engine ray only.")] = None,
    num_cpus: Annotated[int | None, typer.Option(help="CPUs the Ray job may use (default: all). --engine ray only.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Rows per scoring batch on Ray (default: by bundle kind). --engine ray only.")] = None,
):
    """Score listings with a bundle: adds scam_probability, flagged, per-category scores and reasons (JSON, spans into the input)."""
    from lurescan.model.scoring import load_scorer

    if text is None and (input is None or output is None):
        raise LurescanError("give --input FILE --output FILE, or --text 'AD TEXT'")
    if engine not in ("local", "ray"):
        raise LurescanError(f"--engine must be local or ray (got {engine!r})")
    if engine == "ray":
        from lurescan.bulk.ray_engine import score_dataset

        if text is not None:
            raise LurescanError("--engine ray scores files: give --input PATH --output DIR")
        summary = score_dataset(input, output, model=model, address=address, num_cpus=num_cpus, batch_size=batch_size, threshold=threshold, sep=sep, progress=progress)
        typer.echo(f"scored {summary.rows} listings ({summary.flagged} flagged) on Ray -> {summary.output}", err=True)
        return
    if threshold is not None and not 0.0 <= threshold <= 1.0:  # also refuses nan
        raise LurescanError(f"--threshold must be a number from 0 to 1 (got {threshold})")
    scorer = load_scorer(model)
    if text is not None:
        result = scorer.score([{"text": text, "board_country": board_country}], threshold=threshold)[0]
        typer.echo(json.dumps(result.model_dump(), ensure_ascii=False, indent=2))
        return
    from lurescan.bulk.local_engine import score_file

    workers = workers or available_cores()
    summary = score_file(scorer, input, output, chunk_size=chunk_size, threshold=threshold, sep=sep, progress=progress, board_country=board_country, workers=workers)
    typer.echo(f"scored {summary['rows']} listings ({summary['flagged']} flagged) -> {summary['output']}", err=True)


def _finetune(args: FinetuneArgs) -> None:
    from lurescan.training import finetune

    finetune.main(args)


dataclass_command(
    "finetune", _finetune, FinetuneArgs, doc="Fine-tune a transformer (grouped split, weighted loss, selection on validation PR-AUC), export ONNX, write a bundle."
)


from lurescan.serve.commands import register as _register_serve  # noqa: E402

_register_serve(app)


def _ensemble(args: EnsembleArgs) -> None:
    from lurescan.training import ensemble

    ensemble.main(args)


dataclass_command("ensemble", _ensemble, EnsembleArgs, doc="Stack a transformer and a baseline bundle with the red flags (fitted on validation) into an ensemble bundle.")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
