"""Bulk scoring throughput: the local engine next to Ray Data with 1 and 2 workers.

    python benchmarks/bench_ray.py --model DIR [--rows 200000] [--workers 1 2]

Samples real ads with replacement ($LURESCAN_SHARED_DATA/*/*_text_label.csv and
data/corpus/*.jsonl) into a multi-file Parquet folder, then scores the same
folder three ways: the local engine (`score_file`, file by file, one process)
and `score_dataset` on a local Ray instance with 1 and 2 scoring actors.
Ray's start-up is reported apart from scoring: starting Ray itself
(`ray.init`), and a job's fixed cost (actor start, bundle load, planning,
writing), measured on a 1,000-row job. Besides wall-clock rates it reports
listings per CPU-second: of the whole job (the local process; or the driver
and every Ray process: reading, scoring, writing, scheduling), and of the
scoring actors alone. CPU-seconds are the per-core figure behind the README's
capacity estimate, and stay meaningful on a busy machine where wall-clock
rates do not. Ray's scores are checked against the local engine's, row by
row. Writes JSON and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
COLUMNS = ["id", "lang", "title", "company", "location", "salary", "text"]
ACTOR_TITLE = "ray::MapWorker(MapBatches(BundleScorer))"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def sample_listings(n: int, shared: Path, seed: int = 0) -> pd.DataFrame:
    """n real ads drawn with replacement from the shared data and the project's corpus."""
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(shared.glob("*/*_text_label.csv"))]
    frames += [pd.read_json(p, lines=True, dtype=False) for p in sorted((REPO / "data" / "corpus").glob("*.jsonl"))]
    if not frames:
        raise SystemExit(f"no *_text_label.csv under {shared} and no data/corpus/*.jsonl")
    pool = pd.concat([f.reindex(columns=COLUMNS) for f in frames], ignore_index=True).fillna("")
    rng = np.random.default_rng(seed)
    out = pool.iloc[rng.integers(0, len(pool), n)].reset_index(drop=True)
    out.insert(0, "row_id", np.arange(n, dtype=np.int64))
    return out


def build_input(rows: int, files: int, shared: Path, work: Path) -> Path:
    folder = work / f"input-{rows}-{files}"
    if folder.exists() and len(list(folder.glob("*.parquet"))) == files:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    frame = sample_listings(rows, shared)
    for i, part in enumerate(np.array_split(np.arange(rows), files)):
        frame.iloc[part].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    return folder


def _proc_cpu(pid: int) -> tuple[int, float, bytes] | None:
    """(parent pid, CPU seconds, command line) of a process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, cmdline


class RayCpuMeter:
    """CPU seconds of a Ray job on this machine, sampled from /proc while it runs.

    `actor_*`: the scoring actors (worker processes that take the title
    ray::MapWorker... during the job; Ray may place an actor in an idle worker
    it started earlier), leaving out an actor of the previous job that is
    still exiting. `job_*`: the driver plus every process of the local Ray
    instance (raylet, GCS and their workers: reading, writing, scheduling).
    Both count CPU used during the job only.
    """

    def __init__(self, roots: list[int], interval: float = 0.25):
        self.roots = set(roots)
        self.interval = interval
        self.cpu: dict[int, float] = {}
        self.titles: dict[int, bytes] = {}
        self.start: dict[int, float] = {}
        self.old_actors: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        procs = {}
        for pid_dir in Path("/proc").iterdir():
            if pid_dir.name.isdigit() and (info := _proc_cpu(int(pid_dir.name))) is not None:
                procs[int(pid_dir.name)] = info
        members = set(self.roots)
        grew = True
        while grew:  # descendants of the driver and of Ray's daemons
            found = {pid for pid, (ppid, _, _) in procs.items() if ppid in members} - members
            members |= found
            grew = bool(found)
        for pid in members & procs.keys():
            _, cpu, cmdline = procs[pid]
            self.cpu[pid] = cpu
            self.titles[pid] = cmdline

    def __enter__(self):
        self._sample()
        self.start = dict(self.cpu)
        self.old_actors = {pid for pid, title in self.titles.items() if title.startswith(ACTOR_TITLE.encode())}
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    def _new_actors(self) -> dict[int, float]:
        return {
            pid: cpu - self.start.get(pid, 0.0)
            for pid, cpu in self.cpu.items()
            if pid not in self.old_actors and self.titles[pid].startswith(ACTOR_TITLE.encode())
        }

    @property
    def actors(self) -> int:
        return len(self._new_actors())

    @property
    def actor_cpu_seconds(self) -> float:
        return sum(self._new_actors().values())

    @property
    def job_cpu_seconds(self) -> float:
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.cpu.items())


def ray_roots() -> list[int]:
    """This driver and the daemons of the Ray instance it started (raylet, GCS, ...)."""
    import ray

    node = ray._private.worker._global_node  # the local node this driver started
    pids = [os.getpid()]
    for infos in node.all_processes.values():
        pids += [info.process.pid for info in infos if info.process is not None]
    return pids


def run_local(model: str, folder: Path, out: Path) -> dict:
    from lurescan.bulk.local_engine import score_file
    from lurescan.model.scoring import load_scorer

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0, c0 = time.perf_counter(), time.process_time()
    scorer = load_scorer(model)
    load_s = time.perf_counter() - t0
    t1, c1 = time.perf_counter(), time.process_time()
    rows = 0
    for path in sorted(folder.glob("*.parquet")):
        rows += score_file(scorer, path, out / path.name, chunk_size=2000, progress=False)["rows"]
    wall, cpu = time.perf_counter() - t1, time.process_time() - c1
    return {"rows": rows, "model_load_s": round(load_s, 2), "scoring_s": round(wall, 1), "cpu_s": round(cpu, 1), "startup_cpu_s": round(c1 - c0, 2)}


def run_ray(model: str, folder: Path, out: Path, workers: int, batch_size: int | None, cpus_per_worker: float = 1.0) -> dict:
    from lurescan.bulk.ray_engine import score_dataset

    shutil.rmtree(out, ignore_errors=True)
    with RayCpuMeter(ray_roots()) as meter:
        t0 = time.perf_counter()
        summary = score_dataset(folder, out, model=model, workers=workers, cpus_per_worker=cpus_per_worker, batch_size=batch_size, progress=False)
        wall = time.perf_counter() - t0
    return {
        "rows": summary.rows,
        "wall_s": round(wall, 1),
        "actors": meter.actors,
        "actor_cpu_s": round(meter.actor_cpu_seconds, 1),
        "job_cpu_s": round(meter.job_cpu_seconds, 1),
        "batch_size": summary.batch_size,
        "cpus_per_worker": cpus_per_worker,
    }


def same_scores(a: Path, b: Path) -> dict:
    cols = ["row_id", "scam_probability", "flagged"]
    left = pd.read_parquet(a, columns=cols)
    right = pd.read_parquet(b, columns=cols)
    joined = left.merge(right, on="row_id", suffixes=("_a", "_b"), validate="one_to_one")
    diff = (joined["scam_probability_a"] - joined["scam_probability_b"]).abs()
    return {
        "rows_joined": len(joined),
        "max_abs_diff": float(diff.max()),
        "flagged_equal": bool((joined["flagged_a"] == joined["flagged_b"]).fillna(True).all()),
    }


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), None)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mib": mem, "platform": platform.platform(), "python": platform.python_version()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=20, help="Parquet files the input is split into")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray actor pool sizes to measure")
    parser.add_argument("--batch-size", type=int, default=None, help="rows per map_batches call (default: by bundle kind)")
    parser.add_argument("--cpus-per-worker", type=float, default=1.0, help="CPUs (and ONNX Runtime threads) per scoring actor")
    parser.add_argument("--model", default=None, help="bundle (default: the bundled model)")
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--shared-data", default=os.environ.get("LURESCAN_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    parser.add_argument("--workdir", default=str(REPO / "runs" / "bench_ray"))
    parser.add_argument("--out", default=str(REPO / "runs" / "bench_ray.json"))
    args = parser.parse_args()

    import ray

    from lurescan.bulk.ray_engine import connect
    from lurescan.model.bundle import read_bundle

    bundle = read_bundle(args.model)
    model = str(bundle.path)
    work = Path(args.workdir)
    folder = build_input(args.rows, args.files, Path(args.shared_data), work)
    tiny = work / "input-1000"
    if not tiny.exists():
        tiny.mkdir(parents=True)
        pd.read_parquet(min(folder.glob("*.parquet"))).head(1000).to_parquet(tiny / "part-000.parquet", index=False)
    results: dict = {
        "machine": machine(),
        "versions": {"ray": ray.__version__, "pyarrow": __import__("pyarrow").__version__, "pandas": pd.__version__},
        "model": {"path": model, "kind": bundle.kind, "model_version": bundle.model_version},
        "rows": args.rows,
        "files": args.files,
        "mean_text_chars": int(pd.read_parquet(folder, columns=["text"])["text"].str.len().mean()),
        "runs": {},
    }

    def record(name: str, entry: dict, rows: int, wall: float, cpu: float) -> None:
        entry.update(
            {
                "listings_per_s": round(rows / wall, 1),
                "listings_per_cpu_s": round(rows / cpu, 1) if cpu else None,
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            }
        )
        results["runs"][name] = entry
        scoring_only = f"  ({rows / entry['actor_cpu_s']:.1f} per CPU-s of the scoring actors)" if entry.get("actor_cpu_s") else ""
        print(f"{name:18s} {rows:>8d} rows  {wall:7.1f} s  {rows / wall:8.1f} listings/s  {entry['listings_per_cpu_s'] or 0:8.1f} listings/CPU-s{scoring_only}", flush=True)

    if not args.skip_local:
        before = [round(x, 2) for x in os.getloadavg()]
        entry = run_local(model, folder, work / "out-local")
        entry["loadavg_before"] = before
        record("local", entry, entry["rows"], entry["scoring_s"], entry["cpu_s"])

    t0 = time.perf_counter()
    connect(num_cpus=int(max(args.workers) * args.cpus_per_worker))
    results["ray_init_s"] = round(time.perf_counter() - t0, 2)
    try:
        warm = run_ray(model, tiny, work / "out-tiny", 1, args.batch_size, args.cpus_per_worker)
        results["ray_job_overhead_s"] = warm["wall_s"]  # 1,000 rows: almost all fixed cost
        results["ray_job_overhead_cpu_s"] = warm["job_cpu_s"]
        print(f"ray.init {results['ray_init_s']} s; fixed cost of one job (1,000-row job) {warm['wall_s']} s, {warm['job_cpu_s']} CPU-s", flush=True)
        for n in args.workers:
            before = [round(x, 2) for x in os.getloadavg()]
            entry = run_ray(model, folder, work / f"out-ray-{n}", n, args.batch_size, args.cpus_per_worker)
            entry["loadavg_before"] = before
            entry["steady_listings_per_s"] = round(entry["rows"] / max(entry["wall_s"] - warm["wall_s"], 1e-9), 1)
            record(f"ray, {n} worker{'s' if n > 1 else ''}", entry, entry["rows"], entry["wall_s"], entry["job_cpu_s"])
            if not args.skip_local:
                entry["vs_local"] = same_scores(work / "out-local", work / f"out-ray-{n}")
    finally:
        ray.shutdown()

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
