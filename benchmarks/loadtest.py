"""Load test of the scoring API on loopback, next to the framework's floor.

Starts `lurescan serve` (one server per bundle) and a trivial FastAPI app
with the same number of uvicorn workers, then drives each with an async
HTTP client at several concurrency levels: single listings to /v1/score,
batches to /v1/score/batch, and a JSON echo to the trivial app's /floor.
Prints throughput and p50/p95/p99 latency per cell, the server's CPU time
per listing, and the machine's load, and writes it all as JSON.

    python benchmarks/loadtest.py                       # packaged default bundle
    python benchmarks/loadtest.py --bundle /tmp/apibundle --bundle runs/transformer-bundle
    python benchmarks/loadtest.py --floor-client httpx  # also the floor through httpx
    python benchmarks/loadtest.py --profile             # where the model's time goes (pyinstrument)

The client runs on the same machine as the server, so on 2 cores the
figures are a lower bound of what the server does with the machine to
itself; the floor row shows how much of that is the client and the
framework rather than the model. The client is aiohttp: httpx's connection
pool costs so much CPU per request at 32 and more connections that it, not
the server, sets the pace (`--floor-client httpx` measures that in the same
run). Bodies are encoded once up front, so the client's JSON encoding is
not charged to the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "data" / "corpus"

# The framework's floor: same server, same JSON body, no model.
try:
    from fastapi import FastAPI

    floor_app = FastAPI()

    @floor_app.post("/floor")
    async def floor(body: dict) -> dict:
        return {"id": body.get("id"), "ok": True}

except ImportError:  # pragma: no cover
    floor_app = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_listings(limit: int = 2000, seed: int = 7) -> list[dict]:
    """Ads from the project's own corpus (several languages, scams and legitimate)."""
    rows = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                listing = {
                    k: row[k] for k in ("title", "company", "location", "salary", "text", "description") if row.get(k)
                }
                if listing:
                    rows.append(listing)
    if not rows:
        raise SystemExit(f"no listings found in {CORPUS}")
    random.Random(seed).shuffle(rows)
    return rows[:limit]


def proc_cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError):
            pass
    return total


def tree(pid: int) -> list[int]:
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out.extend(tree(int(child)))
    return out


class Server:
    """A server process on loopback, started and waited for."""

    def __init__(self, cmd: list[str], port: int, env: dict, ready_path: str, log: Path):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO)
        self.ready_path = ready_path
        self.log = log

    def wait_ready(self, timeout: float = 180) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.base + self.ready_path, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"server not ready after {timeout}s:\n{self.log.read_text()[-3000:]}")

    def pids(self) -> list[int]:
        return tree(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def start_lurescan(bundle: str | None, workers: int, tmp: Path, env: dict | None = None, log_name: str = "server") -> Server:
    """`lurescan serve` on a free port: the limiter on with limits no client reaches (its cost is part of
    every request), no reload polling; `env` adds or overrides settings. Wait with `wait_ready()`."""
    port = free_port()
    environ = {
        **os.environ,
        "LURESCAN_DATABASE_URL": f"sqlite:///{tmp / f'load-{port}.sqlite3'}",
        "LURESCAN_RATE_LIMIT_PER_SECOND": "1e9",
        "LURESCAN_RATE_LIMIT_BURST": "1000000000",
        "LURESCAN_RELOAD_POLL_SECONDS": "0",
        "PYTHONWARNINGS": "ignore",
        **(env or {}),
    }
    environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [sys.executable, "-m", "lurescan", "serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    if bundle:
        cmd += ["--model", bundle]
    return Server(cmd, port, environ, "/readyz", tmp / f"{log_name}-{port}.log")


def start_floor(workers: int, tmp: Path) -> Server:
    port = free_port()
    code = (
        f"import uvicorn; uvicorn.run('loadtest:floor_app', app_dir={str(Path(__file__).parent)!r}, host='127.0.0.1', "
        f"port={port}, workers={workers}, log_level='warning', access_log=False)"
    )
    return Server([sys.executable, "-c", code], port, dict(os.environ), "/docs", tmp / f"floor-{port}.log")


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


JSON_HEADERS = {"content-type": "application/json"}


@contextlib.asynccontextmanager
async def http_client(kind: str, base: str, concurrency: int):
    """A function `post(path, body_bytes) -> status` over `concurrency` keep-alive connections."""
    if kind == "httpx":
        import httpx

        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:

            async def post(path: str, body: bytes) -> int | str:
                try:
                    response = await client.post(path, content=body, headers=JSON_HEADERS)
                    return response.status_code
                except httpx.HTTPError as exc:
                    return type(exc).__name__

            yield post
        return
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as session:

        async def post(path: str, body: bytes) -> int | str:
            try:
                async with session.post(path, data=body, headers=JSON_HEADERS) as response:
                    await response.read()
                    return response.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                return type(exc).__name__

        yield post


def connections_per_process(port: int) -> list[int]:
    """Established connections to `port` held by each server process (how evenly the workers share clients)."""
    try:
        out = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)


async def drive(
    base: str,
    path: str,
    bodies: list[bytes],
    per_request: int,
    concurrency: int,
    duration: float,
    warmup: float,
    client_kind: str = "aiohttp",
    port: int | None = None,
) -> dict:
    """`concurrency` clients each send requests back to back for `duration` seconds after `warmup`."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counted = [0]
    spread: list[list[int]] = []
    async with http_client(client_kind, base, concurrency) as post:
        start = time.perf_counter()
        measure_from = start + warmup
        stop_at = measure_from + duration

        async def sample_spread() -> None:
            while time.perf_counter() < stop_at:
                await asyncio.sleep(duration / 4)
                if port is not None:
                    spread.append(await asyncio.to_thread(connections_per_process, port))

        async def one_client(i: int) -> None:
            n = i
            while True:
                body = bodies[n % len(bodies)]
                n += concurrency
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                status = await post(path, body)
                t1 = time.perf_counter()
                if t0 >= measure_from:
                    if status == 200:
                        latencies.append(t1 - t0)
                        counted[0] += 1
                    else:
                        errors[str(status)] = errors.get(str(status), 0) + 1

        await asyncio.gather(sample_spread(), *(one_client(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - measure_from
    latencies.sort()
    requests = counted[0]
    return {
        "requests": requests,
        "errors": errors,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(requests / elapsed, 1),
        "listings_per_s": round(requests * per_request / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 95) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
        "client": client_kind,
        "connections_per_worker": spread,
    }


def run_cell(
    server: Server, path: str, bodies: list[bytes], per_request: int, concurrency: int, args, client_kind: str
) -> dict:
    load_before = os.getloadavg()[0]
    cpu_before = proc_cpu_seconds(server.pids())
    result = asyncio.run(
        drive(
            server.base, path, bodies, per_request, concurrency, args.duration, args.warmup, client_kind, server.port
        )
    )
    cpu = proc_cpu_seconds(server.pids()) - cpu_before
    listings = result["listings_per_s"] * result["seconds"]
    result.update(
        concurrency=concurrency,
        listings_per_request=per_request,
        server_cpu_ms_per_listing=round(cpu * 1000 / listings, 3) if listings else None,
        load_before=round(load_before, 2),
        load_after=round(os.getloadavg()[0], 2),
    )
    return result


def profile_model(bundle: str | None, listings: list[dict], batch_size: int) -> str:
    """Where one worker's time goes when scoring: pyinstrument over Scorer.score."""
    import warnings

    from pyinstrument import Profiler

    from lurescan.model.scoring import load_scorer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scorer = load_scorer(bundle)
    scorer.score(listings[:8])
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for i in range(300):
        scorer.score([listings[i % len(listings)]])
    for i in range(0, 20 * batch_size, batch_size):
        scorer.score([listings[(i + j) % len(listings)] for j in range(batch_size)])
    profiler.stop()
    return profiler.output_text(unicode=False, color=False, show_all=False)


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "affinity_cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def print_table(rows: list[dict]) -> None:
    header = (
        "target",
        "endpoint",
        "clients",
        "req/s",
        "listings/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "cpu ms/listing",
        "errors",
        "load",
    )
    lines = [header]
    for r in rows:
        lines.append(
            (
                r["target"],
                r["endpoint"],
                str(r["concurrency"]),
                f"{r['requests_per_s']:.0f}",
                f"{r['listings_per_s']:.0f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p95_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                "-" if r["server_cpu_ms_per_listing"] is None else f"{r['server_cpu_ms_per_listing']:.2f}",
                str(sum(r["errors"].values())),
                f"{r['load_before']:.1f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for j, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)))
        if j == 0:
            print("  ".join("-" * w for w in widths))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bundle", action="append", default=[], help="Bundle directory (repeat; default: the packaged bundle)."
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="uvicorn workers per server (default: cores)."
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--batch-size", type=int, default=64, help="Listings per /v1/score/batch request.")
    parser.add_argument(
        "--batch-concurrency",
        type=int,
        nargs="+",
        help="Concurrency levels for batches (default: --concurrency); lower them for slow models.",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="Measured seconds per cell.")
    parser.add_argument("--warmup", type=float, default=2.0, help="Unmeasured seconds before each cell.")
    parser.add_argument("--no-floor", action="store_true", help="Skip the trivial FastAPI endpoint.")
    parser.add_argument("--client", choices=["aiohttp", "httpx"], default="aiohttp", help="HTTP client (default aiohttp).")
    parser.add_argument(
        "--floor-client",
        choices=["aiohttp", "httpx"],
        action="append",
        default=[],
        help="Also measure the floor through this client (repeat), e.g. httpx to see the client's own cost.",
    )
    parser.add_argument("--no-batch", action="store_true", help="Skip the batch endpoint.")
    parser.add_argument("--profile", action="store_true", help="Also profile Scorer.score in-process (pyinstrument).")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "loadtest.json")
    args = parser.parse_args(argv)

    listings = load_listings()
    singles = [{"id": f"ad-{i}", **listing} for i, listing in enumerate(listings)]
    batches = [
        {"listings": [singles[(i + j) % len(singles)] for j in range(args.batch_size)]}
        for i in range(0, len(singles), args.batch_size)
    ]
    single_bodies = [json.dumps(body).encode() for body in singles]
    batch_bodies = [json.dumps(body).encode() for body in batches]
    mean_chars = statistics.fmean(sum(len(v) for k, v in s.items() if k != "id") for s in singles)
    report = {
        "machine": machine(),
        "workers": args.workers,
        "client": args.client,
        "duration_s": args.duration,
        "batch_size": args.batch_size,
        "listings": {"count": len(singles), "mean_chars": round(mean_chars)},
        "results": [],
    }
    print(
        f"machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, load {report['machine']['load_average_at_start']}; "
        f"{args.workers} workers; {len(singles)} corpus listings, mean {mean_chars:.0f} chars",
        flush=True,
    )

    targets = [("floor", None)] if not args.no_floor else []
    targets += [(f"lurescan:{Path(b).name}" if b else "lurescan:default", b) for b in (args.bundle or [None])]
    with tempfile.TemporaryDirectory(prefix="lurescan-load-") as tmp_dir:
        tmp = Path(tmp_dir)
        for name, bundle in targets:
            server = start_floor(args.workers, tmp) if name == "floor" else start_lurescan(bundle, args.workers, tmp)
            try:
                server.wait_ready()
                if name == "floor":
                    clients = [args.client] + [c for c in args.floor_client if c != args.client]
                    plans = [("/floor", single_bodies, 1, "floor", client) for client in clients]
                else:
                    plans = [("/v1/score", single_bodies, 1, "single", args.client)]
                if name != "floor" and not args.no_batch:
                    plans.append(
                        ("/v1/score/batch", batch_bodies, args.batch_size, f"batch{args.batch_size}", args.client)
                    )
                for path, bodies, per_request, endpoint, client in plans:
                    levels = (args.batch_concurrency or args.concurrency) if per_request > 1 else args.concurrency
                    for concurrency in levels:
                        row = {
                            "target": name if client == args.client else f"{name}({client})",
                            "endpoint": endpoint,
                            **run_cell(server, path, bodies, per_request, concurrency, args, client),
                        }
                        report["results"].append(row)
                        print(
                            f"  {name} {endpoint} x{concurrency}: {row['requests_per_s']:.0f} req/s, {row['listings_per_s']:.0f} listings/s, "
                            f"p99 {row['p99_ms']:.1f} ms, errors {sum(row['errors'].values())}, "
                            f"connections per worker {' '.join('/'.join(map(str, c)) for c in row['connections_per_worker'])}",
                            flush=True,
                        )
            finally:
                server.stop()
    if args.profile:
        report["profile"] = {
            b or "default": profile_model(b, listings, args.batch_size) for b in (args.bundle or [None])
        }
    print()
    print_table(report["results"])
    if args.profile:
        for bundle, text in report["profile"].items():
            print(f"\nprofile of Scorer.score ({bundle}):\n{text}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
