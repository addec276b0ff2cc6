"""Labelled training data: files and Hugging Face datasets -> one frame.

Every source becomes the same canonical frame (`id, source, lang, label` plus
the `JobListing` fields), whatever its layout: the canonical
`*_text_label.csv`, EMSCAD's native columns, the project's JSONL corpus, or a
Hugging Face dataset. Errors a user can make (missing file, unknown format,
no text column, labels other than 0/1, one class only) stop with one line
that names the file and the problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lurescan.model.errors import LurescanError
from lurescan.model.language import detect_language
from lurescan.model.listing import EMSCAD_FLAGS, TEXT_FIELDS, JobListing
from lurescan.model.tables import TableError, as_bool, read_table, require_text_columns
from lurescan.model.textnorm import quick_normalize

# `kind`: the scam kind an ad is (or, for an honest look-alike, imitates); the project's corpus labels every ad.
FRAME_COLUMNS = [
    "id", "source", "lang", "label", "kind", *TEXT_FIELDS, "telecommuting", "has_company_logo", "has_questions",
    "board_country", "audience_country", "file",
]


class DataError(LurescanError):
    """Training data lurescan cannot use; the message names the file and the problem."""


@dataclass(frozen=True)
class SourceFile:
    """What a training file was: recorded in the bundle manifest."""

    path: str
    sha256: str
    rows: int
    labels: dict

    def as_dict(self) -> dict:
        return {"path": self.path, "sha256": self.sha256, "rows": self.rows, "labels": self.labels}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_labels(values: pd.Series, where: str) -> pd.Series:
    """0/1 labels (also "0"/"1", "true"/"false", 0.0/1.0); anything else is an error."""
    mapping = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "false": 0, "true": 1, "legit": 0, "legitimate": 0, "scam": 1, "fraud": 1}
    text = values.map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v).strip().lower())
    parsed = text.map(mapping)
    bad = parsed.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in text[bad].unique()[:5])
        rows = ", ".join(str(i + 1) for i in list(text.index[bad])[:5])
        raise DataError(f"{where}: labels must be 0 (legitimate) or 1 (scam); found {examples} in data rows {rows}")
    return parsed.astype(int)


def canonical_frame(frame: pd.DataFrame, where: str, default_source: str, require_label: bool = True) -> pd.DataFrame:
    """Map any supported layout to the canonical columns."""
    if frame.empty:
        raise DataError(f"{where}: no rows")
    try:
        mapping = require_text_columns(where, list(frame.columns))
    except TableError as exc:
        raise DataError(str(exc)) from exc
    out = pd.DataFrame(index=frame.index)
    for col, target in mapping.items():
        out[target] = frame[col]
    if "label" not in out:
        if require_label:
            raise DataError(f"{where}: no label column (expected 'label', or EMSCAD's 'fraudulent')")
    else:
        out["label"] = parse_labels(out["label"], where)
    for name in TEXT_FIELDS:
        if name in out:
            out[name] = out[name].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v))
    for flag in EMSCAD_FLAGS:
        if flag in out:
            out[flag] = out[flag].map(as_bool)
    out["source"] = out["source"].astype(str) if "source" in out else default_source
    for col in ("kind", "board_country", "audience_country"):
        if col in out:
            out[col] = out[col].map(lambda v: str(v).strip() if isinstance(v, str) and v.strip() else None)
    if "id" not in out:
        out["id"] = [f"{default_source}:{i}" for i in range(len(out))]
    out["id"] = out["id"].astype(str)
    has_text = pd.Series(False, index=out.index)
    for name in TEXT_FIELDS:
        if name in out:
            has_text |= out[name].map(lambda v: isinstance(v, str) and bool(v.strip()))
    dropped = int((~has_text).sum())
    out = out[has_text].copy()
    if out.empty:
        raise DataError(f"{where}: every row has empty text")
    out.attrs["dropped_empty"] = dropped
    if "language" in out:
        out["lang"] = out.pop("language").map(lambda v: str(v).strip() if v is not None and str(v).strip() else None)
    else:
        out["lang"] = None
    missing_lang = out["lang"].isna()
    if missing_lang.any():
        out.loc[missing_lang, "lang"] = [
            detect_language(quick_normalize(" ".join(out.at[i, f] for f in TEXT_FIELDS if f in out and isinstance(out.at[i, f], str))))
            for i in out.index[missing_lang]
        ]
    for col in FRAME_COLUMNS:
        if col not in out:
            out[col] = None
    return out[FRAME_COLUMNS].reset_index(drop=True)


def load_file(path: str | Path, sep: str | None = None) -> tuple[pd.DataFrame, SourceFile]:
    path = Path(path)
    try:
        raw = read_table(path, sep=sep)
    except TableError as exc:
        raise DataError(str(exc)) from exc
    stem = path.name.split(".")[0]
    frame = canonical_frame(raw, str(path), default_source=stem)
    frame["file"] = str(path)
    record = SourceFile(
        path=str(path), sha256=_sha256(path), rows=len(frame), labels={str(k): int(v) for k, v in frame["label"].value_counts().sort_index().items()}
    )
    return frame, record


def load_hf_dataset(name: str, split: str = "train", config: str | None = None) -> tuple[pd.DataFrame, SourceFile]:
    """Any Hugging Face dataset: a hub name (needs internet) or a local path/files."""
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - the [train] extra installs it
        raise DataError("Hugging Face datasets need the 'datasets' package: pip install 'lurescan[train]'") from exc
    where = f"hf:{name}" + (f"/{config}" if config else "") + f"[{split}]"
    local = Path(name)
    try:
        if (local / "dataset_info.json").exists() or (local / "dataset_dict.json").exists():
            # A dataset written with `save_to_disk`.
            ds = datasets.load_from_disk(str(local))
            if isinstance(ds, datasets.DatasetDict):
                ds = ds[split]
        else:
            ds = datasets.load_dataset(name, config, split=split)
    except Exception as exc:  # datasets raises many types; all mean "cannot load"
        raise DataError(f"{where}: cannot load dataset ({type(exc).__name__}: {exc})") from exc
    frame = canonical_frame(ds.to_pandas(), where, default_source=Path(name).name or name)
    frame["file"] = where
    fingerprint = getattr(ds, "_fingerprint", None) or hashlib.sha256(frame.to_json().encode()).hexdigest()
    record = SourceFile(path=where, sha256=str(fingerprint), rows=len(frame), labels={str(k): int(v) for k, v in frame["label"].value_counts().sort_index().items()})
    return frame, record


def load_training_data(
    paths: Sequence[str | Path] = (),
    hf_datasets: Sequence[str] = (),
    hf_split: str = "train",
    hf_config: str | None = None,
    sep: str | None = None,
) -> tuple[pd.DataFrame, list[SourceFile]]:
    frames, records = [], []
    for path in paths:
        frame, record = load_file(path, sep=sep)
        frames.append(frame)
        records.append(record)
    for name in hf_datasets:
        frame, record = load_hf_dataset(name, split=hf_split, config=hf_config)
        frames.append(frame)
        records.append(record)
    if not frames:
        raise DataError("no training data given (use --data FILE or --hf-dataset NAME)")
    data = pd.concat(frames, ignore_index=True)
    # Ids must be unique across files: prefix clashes with the source.
    dup = data["id"].duplicated(keep=False)
    if dup.any():
        data.loc[dup, "id"] = data.loc[dup, "source"] + "/" + data.loc[dup, "id"]
        data["id"] = data["id"].where(~data["id"].duplicated(), data["id"] + "#" + data.groupby("id").cumcount().astype(str))
    return data, records


def check_trainable(data: pd.DataFrame, where: str = "training data") -> None:
    counts = data["label"].value_counts()
    if len(data) == 0:
        raise DataError(f"{where}: no rows")
    if len(counts) < 2:
        only = "scams (1)" if counts.index[0] == 1 else "legitimate ads (0)"
        raise DataError(f"{where}: all {len(data)} rows are {only}; training needs both scams and legitimate ads")


def frame_to_listings(frame: pd.DataFrame) -> list[JobListing]:
    """Canonical frame rows -> JobListing (label, source and file stay in the frame)."""
    columns = [c for c in FRAME_COLUMNS if c not in ("source", "label", "kind", "file")]
    out = []
    for record in frame[columns].to_dict("records"):
        record = {k: v for k, v in record.items() if v is not None and not (isinstance(v, float) and v != v)}
        if "lang" in record:
            record["language"] = record.pop("lang")
        out.append(JobListing.model_validate(record))
    return out
