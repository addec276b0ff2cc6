"""Reading and writing listing tables (CSV, JSONL, Parquet; gzip allowed).

Shared by `lurescan score` (streaming, bounded memory, columns passed through
untouched) and the training loaders. Column names from the canonical layout,
from EMSCAD and a few common aliases map onto `JobListing` fields.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import LurescanError
from .listing import TEXT_FIELDS, JobListing

FORMATS = ("csv", "jsonl", "parquet")

# source column name (lower-case) -> JobListing field or "label"
COLUMN_ALIASES: dict[str, str] = {
    # canonical layout (../shared/data/*_text_label.csv, data/corpus)
    **{name: name for name in TEXT_FIELDS},
    "id": "id",
    "lang": "language",
    "language": "language",
    "label": "label",
    "source": "source",
    "kind": "kind",
    "scam_kind": "kind",
    "board_country": "board_country",
    "audience_country": "audience_country",
    # EMSCAD (Employment Scam Aegean Dataset) native columns
    "job_id": "id",
    "salary_range": "salary",
    "company_profile": "company_profile",
    "fraudulent": "label",
    "telecommuting": "telecommuting",
    "has_company_logo": "has_company_logo",
    "has_questions": "has_questions",
    # common aliases in scraped job data
    "job_title": "title",
    "company_name": "company",
    "employer": "company",
    "job_description": "description",
    "body": "text",
    "content": "text",
    "ad_text": "text",
    "salary_estimate": "salary",
    "working_area": "location",
    "is_scam": "label",
    "is_fraud": "label",
    "scam": "label",
}


class TableError(LurescanError):
    """A table lurescan cannot read; the message names the file and the problem."""


def detect_format(path: str | Path) -> str:
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for suffix, fmt in ((".csv", "csv"), (".tsv", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "jsonl"), (".parquet", "parquet"), (".pq", "parquet")):
        if name.endswith(suffix):
            return fmt
    raise TableError(f"{path}: unknown format (expected .csv, .tsv, .jsonl, .parquet, optionally .gz)")


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def sniff_separator(path: Path) -> str:
    """The delimiter of a CSV file, guessed from its header line."""
    if path.name.lower().removesuffix(".gz").endswith(".tsv"):
        return "\t"
    try:
        with _open_text(path) as fh:
            header = fh.readline()
    except UnicodeDecodeError as exc:
        raise TableError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except (OSError, EOFError) as exc:
        raise TableError(f"{path}: cannot read ({exc})") from exc
    if not header.strip():
        raise TableError(f"{path}: empty file")
    counts = {sep: header.count(sep) for sep in (",", ";", "|", "\t")}
    return max(counts, key=lambda sep: counts[sep])


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise TableError(f"{path}: no such file")
    if path.is_dir():
        raise TableError(f"{path}: is a directory, expected a file")


def iter_chunks(
    path: str | Path, chunk_size: int = 10_000, sep: str | None = None, fmt: str | None = None
) -> Iterator[pd.DataFrame]:
    """Yield the table in chunks of rows; text columns stay text exactly as stored.

    `fmt` and `sep`, when the caller has them already, are not worked out again.
    """
    path = Path(path)
    _check_exists(path)
    fmt = fmt or detect_format(path)
    try:
        if fmt == "csv":
            reader = pd.read_csv(
                path,
                sep=sep or sniff_separator(path),
                dtype=str,
                keep_default_na=False,
                chunksize=chunk_size,
                compression="infer",
                encoding="utf-8",
            )
            yield from reader
        elif fmt == "jsonl":
            yield from _iter_jsonl(path, chunk_size)
        else:
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=chunk_size):
                yield batch.to_pandas()
    except TableError:
        raise
    except UnicodeDecodeError as exc:
        raise TableError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TableError(f"{path}: not a readable {fmt.upper()} file ({str(exc).strip()})") from exc
    except (OSError, EOFError, ValueError) as exc:
        raise TableError(f"{path}: not a readable {fmt.upper()} file ({exc})") from exc


def _iter_jsonl(path: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    rows: list[dict] = []
    with _open_text(path) as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TableError(f"{path}: line {line_no} is not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise TableError(f"{path}: line {line_no} is not a JSON object")
            rows.append(row)
            if len(rows) >= chunk_size:
                yield pd.DataFrame(rows)
                rows = []
    if rows:
        yield pd.DataFrame(rows)


def read_table(path: str | Path, sep: str | None = None) -> pd.DataFrame:
    chunks = list(iter_chunks(path, chunk_size=50_000, sep=sep))
    if not chunks:
        raise TableError(f"{path}: no rows")
    return pd.concat(chunks, ignore_index=True)


def column_mapping(columns) -> dict[str, str]:
    """Source column -> listing field, for the columns lurescan understands.

    When two source columns map to one field (e.g. `text` and `body`), the
    first in the file wins.
    """
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        target = COLUMN_ALIASES.get(str(col).strip().lower())
        if target and target not in taken:
            mapping[col] = target
            taken.add(target)
    return mapping


def require_text_columns(path, columns) -> dict[str, str]:
    mapping = column_mapping(columns)
    if not any(target in TEXT_FIELDS for target in mapping.values()):
        raise TableError(
            f"{path}: no usable text column (found {', '.join(map(str, columns)) or 'none'}; "
            f"expected one of {', '.join(TEXT_FIELDS)} or EMSCAD's columns)"
        )
    return mapping


def _cell(value):
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def as_bool(value) -> bool | None:
    value = _cell(value)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "t", "yes", "y"}:
        return True
    if text in {"0", "false", "f", "no", "n"}:
        return False
    return None


def frame_to_listings(frame: pd.DataFrame, mapping: dict[str, str]) -> list[JobListing]:
    """Rows -> JobListing, reading only mapped columns."""
    listings = []
    fields = [(col, target) for col, target in mapping.items() if target not in ("label", "source")]
    records = frame[[c for c, _ in fields]].to_dict("records") if fields else [{}] * len(frame)
    for record in records:
        data: dict[str, object] = {}
        for col, target in fields:
            value = _cell(record[col])
            if value is None:
                continue
            if target in ("telecommuting", "has_company_logo", "has_questions"):
                data[target] = as_bool(value)
            elif target == "id":
                data[target] = str(value)
            else:
                data[target] = value if isinstance(value, str) else str(value)
        listings.append(JobListing.model_validate(data))
    return listings


class TableWriter:
    """Appends chunks to a CSV, JSONL or Parquet file written atomically.

    Rows go to a temporary file beside the target, renamed into place by
    `commit()`; if anything fails first, the temporary file is removed, so a
    half-written output never stands where a complete one is expected.
    """

    def __init__(self, path: str | Path, sep: str = ",", fmt: str | None = None):
        self.path = Path(path)
        self.format = fmt or detect_format(self.path)
        self.sep = sep
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self._fh: io.TextIOWrapper | None = None
        self._parquet: Any = None  # a pyarrow ParquetWriter, once the first chunk fixes the schema
        self._header_done = False
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.tmp, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        else:
            if self._fh is None:
                raw = open(self.tmp, "wb")
                self._fh = (
                    io.TextIOWrapper(gzip.GzipFile(fileobj=raw, mode="wb"), encoding="utf-8", newline="")
                    if self.path.name.lower().endswith(".gz")
                    else io.TextIOWrapper(raw, encoding="utf-8", newline="")
                )
            if self.format == "csv":
                frame.to_csv(self._fh, index=False, header=not self._header_done, sep=self.sep, quoting=csv.QUOTE_MINIMAL)
                self._header_done = True
            else:
                for record in frame.to_dict("records"):
                    # Keys a row did not have come back from pandas as NaN: leave them out.
                    record = {k: v for k, v in record.items() if not (isinstance(v, float) and v != v)}
                    self._fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self.rows += len(frame)

    def _close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def commit(self) -> Path:
        self._close()
        if not self.tmp.exists() or (self.format == "csv" and not self._header_done and self.rows == 0):
            self.tmp.touch()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self._close()
        finally:
            self.tmp.unlink(missing_ok=True)


@contextmanager
def table_writer(path: str | Path, sep: str = ",", fmt: str | None = None) -> Iterator[TableWriter]:
    writer = TableWriter(path, sep=sep, fmt=fmt)
    try:
        yield writer
    except BaseException:
        writer.abort()
        raise
    writer.commit()
