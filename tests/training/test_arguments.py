"""The argument dataclasses are the one source of the commands' options (training/arguments.py)."""

from __future__ import annotations

import shlex

import pytest
import typer
from typer.testing import CliRunner

from lurescan.training.arguments import (
    BuildDefaultArgs,
    DataArgs,
    EnsembleArgs,
    EvaluateArgs,
    ExportArgs,
    FinetuneArgs,
    ReexportArgs,
    TrainArgs,
    command,
    command_line,
    options,
)

ALL = (TrainArgs, EnsembleArgs, FinetuneArgs, ReexportArgs, EvaluateArgs, BuildDefaultArgs)


def parse(*classes, argv, **kwargs):
    """What `command` builds from `argv`, without running anything."""
    seen = []
    app = typer.Typer()
    app.command()(command(lambda *built: seen.extend(built), *classes, **kwargs))
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    return seen


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_option_has_help_and_defaults_match_the_dataclass(cls):
    for option in options(cls):
        assert option.help, f"{cls.__name__}.{option.name} has no help"
    required = {o.name: "x" for o in options(cls) if o.default is ...}
    built = parse(cls, argv=[w for name, v in required.items() for w in ("--" + name.replace("_", "-"), v)])[0]
    assert built == cls(**required)  # no option given: the dataclass defaults, nothing re-typed


def test_an_alias_that_is_another_options_flag_goes_to_that_option():
    train = parse(TrainArgs, argv=["--out", "o", "--seed", "7"])[0]
    assert train.data.split_seed == 7
    finetune = parse(FinetuneArgs, argv=["--out", "o", "--seed", "7"])[0]
    assert finetune.training.seed == 7 and finetune.data.split_seed == 13


def test_paths_are_normalised_and_bools_get_their_negation():
    train = parse(TrainArgs, argv=["-o", "./runs/x/", "-d", "a.csv", "-d", "./b.csv", "--no-redflags", "--metadata", "--C", "2"])[0]
    assert train.out == "runs/x" and train.data.data == ["a.csv", "b.csv"]
    assert (train.model.use_redflags, train.model.use_metadata, train.model.C) == (False, True, 2.0)


def test_the_reexport_keeps_hf_argument_parser_spellings():
    reexport, data, export = parse(
        ReexportArgs, DataArgs, ExportArgs, underscore_aliases=True,
        argv=["--model_dir", "m", "--out", "o", "--hf_datasets", "h", "--split_seed", "5", "--no_progress", "--no_quantize", "--int8-tolerance", "0.01"],
    )
    assert (reexport.model_dir, reexport.progress, data.hf_datasets, data.split_seed) == ("m", False, ["h"], 5)
    assert export.quantize is False and export.int8_tolerance == 0.01


def test_command_line_rebuilds_the_arguments():
    args = TrainArgs(out="runs/x", data=DataArgs(data=["a b.csv"], split_seed=4), description="it's")
    parts = command_line("lurescan train", args, always=("text_view",))
    assert parts[0] == "lurescan train" and "--text-view neutral" in parts and "--split-seed 4" in parts
    argv = [w for part in parts[1:] for w in shlex.split(part)]
    assert parse(TrainArgs, argv=argv)[0] == args
