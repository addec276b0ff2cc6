"""Score a whole file in chunks: `lurescan score --input FILE --output FILE`.

Memory stays bounded by the chunk size whatever the file's length; rows and
columns come out as they went in, in order, with `scam_probability`,
`flagged` and `reasons` (a JSON list with spans into the fields as given)
added. The output is written to a temporary file and renamed only when every
row is scored, so a failure leaves no partial file behind.

One pass, in one direction: the input's format and delimiter are worked out
once, before anything is read; each chunk is read (model.tables), scored once
(`score_frame`, here or in a worker) and written.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from lurescan.model.scoring import Scorer
from lurescan.model.tables import (
    TableError,
    detect_format,
    iter_chunks,
    require_text_columns,
    sniff_separator,
    table_writer,
)

from .frames import score_frame


def _count_rows(path: Path, fmt: str) -> int | None:
    """Row count for the progress bar, when cheap (Parquet metadata)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


_POOL_SCORER: dict = {}


def _score_chunk(chunk: pd.DataFrame, mapping: dict, threshold: float | None, board_country: str | None) -> pd.DataFrame:
    """One chunk in a worker process, with the scorer it inherited."""
    return score_frame(_POOL_SCORER["scorer"], chunk, mapping, threshold, board_country)


@contextmanager
def _chunk_pool(scorer: Scorer, workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """A pool of forked workers that share the loaded scorer, or None for one worker (or no fork)."""
    if workers == 1 or "fork" not in mp.get_all_start_methods():
        yield None
        return
    _POOL_SCORER["scorer"] = scorer
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            yield pool
    finally:
        _POOL_SCORER.clear()


def score_file(
    scorer: Scorer,
    input_path: str | Path,
    output_path: str | Path,
    chunk_size: int = 2000,
    threshold: float | None = None,
    sep: str | None = None,
    progress: bool = True,
    board_country: str | None = None,
    workers: int = 1,
) -> dict:
    """Stream `input_path` through the scorer into `output_path`; returns counts.

    `workers` > 1 scores chunks in that many processes (forked with the loaded
    scorer, so nothing is loaded twice); output stays in input order and at most
    2 x workers chunks are in flight, so memory stays bounded.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1 (got {workers})")
    input_path, output_path = Path(input_path), Path(output_path)
    if input_path.resolve() == output_path.resolve():
        raise TableError(f"{output_path}: output would overwrite the input; choose another path")
    out_format = detect_format(output_path)
    # A missing input has no format yet: iter_chunks says "no such file" once the writer is open.
    in_format = detect_format(input_path) if input_path.exists() else None
    in_sep = sep or (sniff_separator(input_path) if in_format == "csv" else ",")
    total = flagged = unscored = 0
    mapping = None
    with table_writer(output_path, sep=in_sep if out_format == "csv" else ",", fmt=out_format) as writer:
        bar = tqdm(total=_count_rows(input_path, in_format), unit="listings", disable=not progress, desc="scoring")

        def write(scored: pd.DataFrame) -> None:
            nonlocal total, flagged, unscored
            writer.write(scored)
            total += len(scored)
            flagged += int(scored["flagged"].fillna(False).sum())
            unscored += int(scored["scam_probability"].isna().sum())
            bar.update(len(scored))

        with _chunk_pool(scorer, workers) as pool:
            pending: deque = deque()
            for chunk in iter_chunks(input_path, chunk_size=chunk_size, sep=in_sep if in_format == "csv" else None, fmt=in_format):
                if mapping is None:
                    mapping = require_text_columns(input_path, list(chunk.columns))
                if pool is None:
                    write(score_frame(scorer, chunk, mapping, threshold, board_country))
                    continue
                pending.append(pool.submit(_score_chunk, chunk, mapping, threshold, board_country))
                if len(pending) >= 2 * workers:
                    write(pending.popleft().result())
            while pending:
                write(pending.popleft().result())
        bar.close()
        if mapping is None:
            raise TableError(f"{input_path}: no rows to score")
    return {"rows": total, "flagged": flagged, "unscored_empty": unscored, "output": str(output_path)}
