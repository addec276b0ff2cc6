"""Rebuild the bundled default model: `make default-model` (add INSTALL=1 to replace model/default_bundle).

    python -m lurescan.training.build_default --shared-data ../shared/data --out runs/default-model [--install]

Trains the baseline on all the real data of ../shared/data, EMSCAD's real
scams included, plus the project's own written corpus (`data/corpus`), with the
standard grouped split. Source style is controlled by design rather than by
leaving the real scams out: the n-grams read a source-neutral view of each ad
(model/textview.py), n-grams only one board uses get no weight
(`min_source_support`), every board counts equally within a label (capped
weights), and the threshold is chosen so that every legitimate board, left out
of training in turn, keeps at most 1% false positives (`threshold_rule
unseen_boards`). `--print-command` prints the equivalent `lurescan train`
command line. Hash sizes are smaller than the training default so the bundle
stays a few MB.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .arguments import REPO, BaselineArgs, BuildDefaultArgs, DataArgs, TrainArgs, command, command_line
from .train import main

VERSION = "lurescan-default-20261206"

DESCRIPTION = (
    "lurescan's bundled default model: word 1-2-gram and character 2-5-gram TF-IDF (hashed) over a source-neutral view "
    "of each ad, red-flag features in eleven languages for every documented kind of job scam, board-balanced logistic "
    "regression with cross-fitted sigmoid calibration, and scam-kind heads for the per-category scores. Trained on "
    "EMSCAD's real scams and legitimate ads, legitimate ads from boards in the US, Korea, Vietnam, Cambodia, Indonesia "
    "and China, and the project's written multilingual corpus; the threshold keeps every legitimate board, left out of "
    "training in turn, at or under 1% false positives."
)


def training_files(shared_data: Path, corpus: Path) -> list[str]:
    files = sorted(str(p) for p in corpus.glob("*.jsonl"))
    if not files:
        raise SystemExit(f"error: no corpus files in {corpus}")
    if not shared_data.exists():
        raise SystemExit(f"error: shared data not found at {shared_data} (pass --shared-data)")
    files += sorted(str(p) for p in shared_data.glob("*/*_text_label.csv"))
    files += sorted(str(p) for p in shared_data.glob("emscad*.csv*"))
    return files


def build(args: BuildDefaultArgs) -> int:
    os.chdir(REPO)
    train_args = default_model_args(Path(args.shared_data), Path(args.corpus), Path(args.out), args.version or VERSION)
    if args.print_command:
        print(train_command(train_args))
        return 0
    main(train_args)
    if args.install:
        install(Path(train_args.out), REPO / "model" / "default_bundle")
    return 0


def run() -> int:
    """The command line, from `BuildDefaultArgs`."""
    import typer

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(command(build, BuildDefaultArgs, doc=__doc__.split("\n\n")[0]))
    return app()


def default_model_args(shared_data: Path, corpus: Path, out: Path, version: str | None = None) -> TrainArgs:
    """The exact training arguments of the shipped bundle."""
    return TrainArgs(
        out=os.path.relpath(out, REPO) if Path(out).is_absolute() else str(out),
        # Paths as seen from the repository root are what the model card records.
        data=DataArgs(data=[os.path.relpath(f, REPO) for f in training_files(Path(shared_data).resolve(), Path(corpus).resolve())]),
        model=BaselineArgs(n_char_features=2**18, n_word_features=2**17),
        model_version=version or VERSION,
        description=DESCRIPTION,
        progress=False,
    )


def train_command(args: TrainArgs) -> str:
    """`lurescan train ...` with the flags that reproduce these arguments (the split seed and text view pinned)."""
    return " \\\n  ".join(command_line("lurescan train", args, always=("split_seed", "text_view")))


def install(bundle: Path, target: Path) -> None:
    """Replace the packaged bundle with a verified one (atomically: a crash leaves the old one)."""
    from lurescan.model.bundle import read_bundle

    read_bundle(bundle)
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(bundle, staging)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
    print(f"installed {bundle} as {target}")


if __name__ == "__main__":
    sys.exit(run())
