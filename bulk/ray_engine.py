"""Bulk scoring on Ray Data: `lurescan score --engine ray --input PATH --output DIR`.

The second driver of the one scorer: Ray reads CSV/JSONL/Parquet files or
folders (local paths, or any filesystem pyarrow reads: s3://, gs://, ...),
a pool of actors each loads the bundle once and runs `score_frame` (what the
local engine runs on each chunk) on batches, and Ray writes Parquet files into DIR. The
bundle travels from the driver to the workers through Ray's object store,
so workers need lurescan installed but no access to the driver's disk.

Ray is imported only here and only when this engine runs
(`pip install 'lurescan[ray]'`).

GPUs: a transformer bundle scores with ONNX Runtime. `score_dataset(...,
num_gpus=1)` gives each actor a GPU through `map_batches`; the session must
then run on ONNX Runtime's CUDAExecutionProvider (`onnxruntime-gpu` on the
workers; the transformer scorer asks for the CPU provider today). See the
README's note on GPUs; not tested here, these machines have none.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from lurescan.model.bundle import Bundle, read_bundle
from lurescan.model.errors import LurescanError
from lurescan.model.tables import TableError, detect_format, require_text_columns

from .frames import score_frame

log = logging.getLogger(__name__)

# Rows per `map_batches` call. The baseline amortises its vectoriser over
# large batches; the transformer sorts each batch by length before padding, so
# a few hundred rows already pad tightly (MiniLM int8, one thread: 84 listings
# per CPU-second at 64 and 256 rows, 80 at 1024; benchmarks/bench_ray.py).
DEFAULT_BATCH_SIZE = {"baseline": 1024, "transformer": 256, "ensemble": 256}
SKIPPED_PREFIXES = (".", "_")  # _SUCCESS, .crc, hidden files next to data files
# Ray Data lists input files in a task that takes one CPU (and offers no way to
# ask for less); if the scoring actors held every CPU it would never run. A local
# Ray instance gets this one on top of the scoring CPUs, and the actor pool
# leaves it free on a cluster.
LISTING_CPUS = 1


class RayEngineError(LurescanError):
    """A Ray job lurescan cannot run; the message says what to change."""


@dataclass(frozen=True)
class InputFiles:
    """The data files behind one `--input`, resolved on the driver."""

    filesystem: object  # pyarrow.fs.FileSystem
    paths: list[str]
    format: str
    label: str  # what the user typed, for messages

    @property
    def uris(self) -> list[str]:
        """The paths with the input's scheme (s3://...), for readers that resolve filesystems themselves."""
        if not _is_uri(self.label):
            return list(self.paths)
        scheme = self.label.split("://", 1)[0]
        return [f"{scheme}://{p.lstrip('/')}" for p in self.paths]


@dataclass
class RaySummary:
    rows: int
    flagged: int
    unscored_empty: int
    output: str
    files: int
    workers: int
    cpus_per_worker: float
    batch_size: int
    startup_seconds: float
    scoring_seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def _import_ray():
    try:
        import ray
        import ray.data  # fails here, not mid-job, when Ray lacks its data extra
    except ImportError as exc:
        raise RayEngineError("the Ray engine needs Ray: pip install 'lurescan[ray]'") from exc
    return ray


def _is_uri(path: str) -> bool:
    return "://" in path


def _filesystem(path: str):
    """(filesystem, path inside it) for a local path or a URI pyarrow knows."""
    import pyarrow.fs as pafs

    if not _is_uri(path):
        return pafs.LocalFileSystem(), str(Path(path).expanduser().resolve())
    try:
        return pafs.FileSystem.from_uri(path)
    except (ValueError, OSError, ImportError) as exc:
        raise TableError(f"{path}: cannot open this location ({exc})") from exc


def resolve_input(path: str | Path) -> InputFiles:
    """A file, or every data file under a folder; one format per input."""
    import pyarrow.fs as pafs

    label = str(path)
    fs, inner = _filesystem(label)
    try:
        info = fs.get_file_info(inner)
    except OSError as exc:
        raise TableError(f"{label}: cannot read ({exc})") from exc
    if info.type == pafs.FileType.NotFound:
        raise TableError(f"{label}: no such file or folder")
    if info.type == pafs.FileType.File:
        return InputFiles(fs, [inner], detect_format(inner), label)
    infos = fs.get_file_info(pafs.FileSelector(inner, recursive=True))
    files = sorted(
        i.path
        for i in infos
        if i.type == pafs.FileType.File and not any(part.startswith(SKIPPED_PREFIXES) for part in Path(i.path).relative_to(inner).parts)
    )
    formats: dict[str, list[str]] = {}
    for f in files:
        try:
            formats.setdefault(detect_format(f), []).append(f)
        except TableError:
            continue  # READMEs, checksums, ... beside the data
    if not formats:
        raise TableError(f"{label}: no CSV, JSONL or Parquet files in this folder")
    if len(formats) > 1:
        found = ", ".join(f"{len(v)} {k}" for k, v in sorted(formats.items()))
        raise TableError(f"{label}: mixed formats in one folder ({found}); score one format at a time")
    fmt, paths = next(iter(formats.items()))
    return InputFiles(fs, paths, fmt, label)


def _csv_header(inputs: InputFiles, sep: str | None) -> tuple[str, list[str]]:
    """Delimiter and column names of the first CSV file (as the local engine sniffs them)."""
    first = inputs.paths[0]
    try:
        with inputs.filesystem.open_input_stream(first, compression="detect") as raw:
            head = raw.read(1 << 20).decode("utf-8", errors="replace")
    except OSError as exc:
        raise TableError(f"{first}: cannot read ({exc})") from exc
    header = head.splitlines()[0] if head.strip() else ""
    if not header.strip():
        raise TableError(f"{first}: empty file")
    if sep is None:
        if first.lower().removesuffix(".gz").endswith(".tsv"):
            sep = "\t"
        else:
            counts = {s: header.count(s) for s in (",", ";", "|", "\t")}
            sep = max(counts, key=counts.get)
    return sep, next(csv.reader([header], delimiter=sep))


def input_header(inputs: InputFiles, sep: str | None = None) -> tuple[str | None, list[str]]:
    """Delimiter (CSV only, else None) and column names of the first input file, read once and without Ray.

    A file with no text column fails before Ray starts, and the CSV reader is
    given the same delimiter and columns.
    """
    first = inputs.paths[0]
    if inputs.format == "csv":
        return _csv_header(inputs, sep)
    try:
        if inputs.format == "parquet":
            import pyarrow.parquet as pq

            return None, pq.read_schema(first, filesystem=inputs.filesystem).names
        with inputs.filesystem.open_input_stream(first, compression="detect") as raw:
            for line in io.TextIOWrapper(raw, encoding="utf-8"):
                if line.strip():
                    row = json.loads(line)
                    return None, list(row) if isinstance(row, dict) else []
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ArrowInvalid and JSONDecodeError are ValueErrors
        raise TableError(f"{first}: not a readable {inputs.format.upper()} file ({exc})") from exc
    raise TableError(f"{first}: no rows")


def read_dataset(inputs: InputFiles, header: tuple[str | None, list[str]], concurrency: int | None = None):
    """A Ray Dataset over the input files (`header` from `input_header`); CSV cells stay text, exactly as the local engine reads them.

    Reading takes no CPU reservation: decoding is cheap next to scoring, and
    the scoring actors may hold every CPU; `concurrency` bounds the readers.
    """
    _import_ray()
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import ray.data

    common = {"file_extensions": None, "num_cpus": 0, "concurrency": concurrency}
    if inputs.format == "jsonl":
        # Line-delimited JSON goes through pandas, as in the local engine; that
        # reader resolves the filesystem from each URI itself.
        return ray.data.read_json(inputs.uris, lines=True, **common)
    common["filesystem"] = inputs.filesystem
    if inputs.format == "parquet":
        return ray.data.read_parquet(inputs.paths, **common)
    delimiter, columns = header
    return ray.data.read_csv(
        inputs.paths,
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in columns}, strings_can_be_null=False),
        **common,
    )


def bundle_payload(bundle: Bundle) -> dict[str, bytes]:
    """Every file of a verified bundle, to ship to workers that cannot see the driver's disk."""
    names = ["manifest.json", *bundle.manifest["files"]]
    return {name: (bundle.path / name).read_bytes() for name in dict.fromkeys(names)}


class WorkerError(RuntimeError):
    """A scoring actor's failure, named so the driver can find it in Ray's remote traceback."""


def _worker_errors(func):
    """Re-raise anything a scoring actor hits as one WorkerError line (type: message)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            message = " ".join(str(exc).split()) or type(exc).__name__
            raise WorkerError(f"{type(exc).__name__}: {message}") from exc

    return wrapper


class BundleScorer:
    """A Ray actor: unpacks and verifies the bundle once, then scores batches with `score_frame`."""

    @_worker_errors
    def __init__(self, payload, threshold: float | None = None, threads: int = 1):
        if not isinstance(payload, dict):  # an ObjectRef to the files (shared by every actor)
            import ray

            payload = ray.get(payload)
        # ONNX Runtime reads this when the transformer scorer builds its session:
        # as many intra-op threads as CPUs reserved for this actor.
        os.environ["LURESCAN_ORT_THREADS"] = str(max(1, int(threads)))
        from lurescan.model.scoring import load_scorer

        with tempfile.TemporaryDirectory(prefix="lurescan-bundle-") as tmp:
            for name, content in payload.items():
                target = Path(tmp) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            # load_scorer checks every sha256 again and reads all weights now,
            # so the temporary copy can go as soon as it returns.
            self.scorer = load_scorer(tmp)
        self.threshold = threshold
        self._mappings: dict[tuple, dict[str, str]] = {}

    @_worker_errors
    def __call__(self, batch):
        key = tuple(batch.columns)
        mapping = self._mappings.get(key)
        if mapping is None:
            mapping = self._mappings[key] = require_text_columns("input batch", list(batch.columns))
        return score_frame(self.scorer, batch, mapping, self.threshold)


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a `host:port` nobody answers at (Ray itself retries for minutes)."""
    import socket

    if address in ("auto", "local") or ("://" in address and not address.startswith("ray://")):
        return
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise RayEngineError(f"bad Ray address {address!r}: expected HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise RayEngineError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def connect(address: str | None = None, num_cpus: int | None = None, quiet: bool = True) -> bool:
    """Join the cluster at `address` (or RAY_ADDRESS), else start Ray on this machine.

    Returns True if this call started or joined Ray (and so should shut it down).
    """
    ray = _import_ray()
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    kwargs = {"logging_level": logging.WARNING if quiet else logging.INFO, "include_dashboard": False}
    if address:
        check_reachable(address)
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=(num_cpus or os.cpu_count() or 1) + LISTING_CPUS, **kwargs)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if not address:
            raise RayEngineError(f"cannot start a local Ray instance: {first_line}") from None
        raise RayEngineError(
            f"cannot connect to the Ray cluster at {address}: {first_line} (it answers, but refused this driver: a cluster with "
            "token authentication needs RAY_AUTH_MODE=token and its token in RAY_AUTH_TOKEN or ~/.ray/auth_token; driver "
            "and cluster need the same Ray and Python versions)"
        ) from None
    return True


def _worker_failure(exc: BaseException) -> str | None:
    """The one-line cause of a failed Ray job, from the WorkerError in its remote traceback.

    Ray ships worker exceptions back as text (the original objects do not
    survive), so the message is read from that text.
    """
    import re

    text = str(exc)
    found = re.findall(r"WorkerError: (.+)", text)
    if found:
        return found[-1].strip()
    # Reading or writing failed (a malformed file, a lost permission): the last
    # "SomeError: message" line of the remote traceback says what.
    found = re.findall(r"^\s*(?:[\w.]+\.)?(\w+(?:Error|Exception)): (\S.*)$", text, flags=re.MULTILINE)
    found = [f"{name}: {message.strip()}" for name, message in found if not name.startswith(("RayTaskError", "UserCodeException"))]
    return found[-1] if found else None


def _check_output(output: str, inputs: InputFiles) -> None:
    if _is_uri(output):
        return
    out = Path(output).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TableError(f"{output}: output exists and is not an empty folder; choose a new folder")
    if any(str(out) == p or Path(p).is_relative_to(out) or out.is_relative_to(Path(p)) for p in inputs.paths):
        raise TableError(f"{output}: output folder overlaps the input; choose another folder")


def _summarise(output: str) -> tuple[int, int, int, int]:
    """rows, flagged, unscored and files, read back from the written Parquet (two columns only)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    fs, inner = _filesystem(output)
    dataset = pads.dataset(inner, filesystem=fs, format="parquet", exclude_invalid_files=False)
    table = dataset.to_table(columns=["flagged", "scam_probability"])
    flagged = pc.sum(pc.fill_null(table["flagged"], False)).as_py() or 0
    return table.num_rows, int(flagged), table["scam_probability"].null_count, len(dataset.files)


@contextlib.contextmanager
def _job_settings(progress: bool, cpu_limit: int | None):
    """Progress bars and a CPU cap for this job only: Ray Data's context is process-wide."""
    import ray.data

    context = ray.data.DataContext.get_current()
    saved = (context.enable_progress_bars, context.enable_operator_progress_bars, context.execution_options.resource_limits)
    context.enable_progress_bars = context.enable_operator_progress_bars = progress
    if cpu_limit is not None:
        context.execution_options.resource_limits = saved[2].copy(cpu=cpu_limit)
    try:
        yield
    finally:
        context.enable_progress_bars, context.enable_operator_progress_bars, context.execution_options.resource_limits = saved


def _write_parquet(scored, output: str, workers: int) -> None:
    """Write the scored rows; a local folder appears only when complete, a URI gets a _SUCCESS marker."""
    if _is_uri(output):
        scored.write_parquet(output, ray_remote_args={"num_cpus": 0}, concurrency=workers)
        fs, inner = _filesystem(output)
        with fs.open_output_stream(f"{inner.rstrip('/')}/_SUCCESS"):
            pass
        return
    out = Path(output).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.part-{uuid.uuid4().hex[:8]}")
    try:
        scored.write_parquet(str(staging), ray_remote_args={"num_cpus": 0}, concurrency=workers)
        if out.exists():
            out.rmdir()  # checked empty before the run
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def score_dataset(
    input_path: str | Path,
    output_dir: str | Path,
    model: str | Path | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    workers: int | None = None,
    cpus_per_worker: float = 1.0,
    num_gpus: float = 0.0,
    batch_size: int | None = None,
    threshold: float | None = None,
    sep: str | None = None,
    progress: bool = True,
) -> RaySummary:
    """Score every listing under `input_path` on Ray and write Parquet files into `output_dir`.

    `num_cpus` caps the CPUs the scoring actors use (and sizes a local Ray
    instance); the pool grows to `workers` actors of `cpus_per_worker` CPUs
    each (default: as many as fit in `num_cpus`, or in the cluster less
    LISTING_CPUS).
    """
    input_label, output = str(input_path), str(output_dir)
    inputs = resolve_input(input_label)
    header = input_header(inputs, sep)
    require_text_columns(inputs.paths[0], header[1])
    _check_output(output, inputs)
    bundle = read_bundle(model)  # verified on the driver: a bad bundle fails before Ray starts
    batch_size = batch_size or DEFAULT_BATCH_SIZE.get(bundle.kind, 256)
    if batch_size < 1:
        raise RayEngineError(f"--batch-size must be at least 1 (got {batch_size})")
    if cpus_per_worker <= 0 or num_gpus < 0 or (num_cpus is not None and num_cpus < 1):
        raise RayEngineError("CPUs and GPUs per worker, and --num-cpus, must be positive")

    started = time.perf_counter()
    ray = _import_ray()
    owns_ray = connect(address, num_cpus)
    try:
        import ray.data

        usable = ray.cluster_resources().get("CPU", 0) - LISTING_CPUS
        if usable < cpus_per_worker:
            raise RayEngineError(
                f"the Ray cluster has {usable + LISTING_CPUS:g} CPUs: a scoring worker of {cpus_per_worker:g} CPUs "
                f"must leave {LISTING_CPUS} free for Ray Data's file listing"
            )
        budget = min(num_cpus, usable) if num_cpus else usable
        workers = workers or max(1, int(budget // cpus_per_worker))
        payload = ray.put(bundle_payload(bundle))  # one copy in the object store, shared by every actor
        startup = time.perf_counter() - started
        try:
            with _job_settings(progress, cpu_limit=budget + LISTING_CPUS if num_cpus is not None else None):
                scored = read_dataset(inputs, header, concurrency=workers).map_batches(
                    BundleScorer,
                    fn_constructor_kwargs={"payload": payload, "threshold": threshold, "threads": max(1, int(cpus_per_worker))},
                    batch_size=batch_size,
                    batch_format="pandas",
                    # One actor at first, more (up to `workers`) while blocks queue up:
                    # a small input never pays for loading the bundle many times.
                    compute=ray.data.ActorPoolStrategy(min_size=1, max_size=workers, initial_size=1),
                    num_cpus=cpus_per_worker,
                    num_gpus=num_gpus or None,
                    zero_copy_batch=False,
                )
                _write_parquet(scored, output, workers)
        except (TableError, RayEngineError):
            raise
        except Exception as exc:
            cause = _worker_failure(exc)
            if cause is None:
                raise
            log.debug("Ray job failed", exc_info=True)
            raise RayEngineError(f"the Ray job failed: {cause}") from None
        scoring = time.perf_counter() - started - startup
    finally:
        if owns_ray:
            ray.shutdown()
    rows, flagged, unscored, files = _summarise(output)
    return RaySummary(
        rows=rows,
        flagged=flagged,
        unscored_empty=unscored,
        output=output,
        files=files,
        workers=workers,
        cpus_per_worker=cpus_per_worker,
        batch_size=batch_size,
        startup_seconds=round(startup, 3),
        scoring_seconds=round(scoring, 3),
    )
