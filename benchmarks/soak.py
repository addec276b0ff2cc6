"""Soak test of the scoring API: minutes of mixed traffic, a kill -9, no lost feedback.

Starts `lurescan serve` on loopback with API keys and a SQLite file (or the
database you give), and sends valid and invalid requests from several
concurrent clients: single and batch scoring, feedback, bad JSON, missing
fields, empty text, unknown fields, oversize bodies, too many items, wrong
and missing keys, a rate-limited key, deep JSON, odd Unicode, and the
pathological inputs of tests/fixtures/pathological.yaml (runs that once made
one regular expression take minutes). Every answer must have the status its
request deserves and none may be a 5xx; the latency of good requests is
reported (p50, p99). The
workers' resident memory is sampled throughout. Midway the whole server is
killed with SIGKILL and started again on the same database; at the end
every feedback row the server acknowledged (201) must be in the database.

    python benchmarks/soak.py --minutes 5
    python benchmarks/soak.py --minutes 5 --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from loadtest import REPO, Server, load_listings, machine, start_lurescan, tree

MAX_BATCH = 16
PATHOLOGICAL = REPO / "tests" / "fixtures" / "pathological.yaml"
# Request kinds whose latency is "good traffic" (answered 200/201).
GOOD_KINDS = frozenset({"score", "batch", "feedback", "store", "model"})


def pathological_listings() -> list[dict]:
    """One listing per pathological input (each field as the corpus says)."""
    import yaml

    out = []
    for spec in yaml.safe_load(PATHOLOGICAL.read_text("utf-8"))["inputs"]:
        unit = spec["unit"]
        text = (unit * (spec["chars"] // len(unit) + 1))[: spec["chars"]] + spec.get("tail", "")
        out.append(dict.fromkeys(spec["fields"], text))
    return out


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def worker_pids(server: Server) -> list[int]:
    """The uvicorn workers (children of the supervisor), not the supervisor itself."""
    return [pid for pid in tree(server.proc.pid) if pid != server.proc.pid]


def start_server(args, tmp: Path, keys_file: Path, database_url: str) -> Server:
    env = {
        "LURESCAN_DATABASE_URL": database_url,
        "LURESCAN_API_KEYS_FILE": str(keys_file),
        "LURESCAN_MAX_BATCH_ITEMS": str(MAX_BATCH),
        "LURESCAN_MAX_BODY_BYTES": "1000000",
        "LURESCAN_METRICS_DIR": str(tmp / "metrics"),
    }
    server = start_lurescan(args.bundle, args.workers, tmp, env=env, log_name="soak-server")
    server.wait_ready()
    return server


def make_keys(path: Path) -> dict[str, str]:
    from lurescan.serve.core.security import generate_key, hash_key

    keys = {"soak": generate_key(), "slow": generate_key()}
    entries = [
        {"name": "soak", "sha256": hash_key(keys["soak"])},
        {"name": "slow", "sha256": hash_key(keys["slow"]), "rate_per_second": 2, "burst": MAX_BATCH},
    ]
    path.write_text(json.dumps({"keys": entries}))
    return keys


# Text a scorer must survive: bidi overrides, NUL, a lone surrogate, zero-width characters; unclosed markup.
ODD_UNICODE = "\u202e\x00 Work in 柬埔寨 🌴\ud800 Telegram @x \u200b\ufeff"
ODD_HTML = "<script>alert(1)</script>Work abroad &amp; earn $5000 &#x1F600; <b unclosed"


def request_kinds(listings: list[dict], keys: dict[str, str]):
    """(name, weight, expected statuses, builder) for every kind of request the soak sends."""
    ok = {"X-API-Key": keys["soak"], "Content-Type": "application/json"}
    pathological = pathological_listings()

    def listing(rng):
        return dict(rng.choice(listings), id=f"soak-{rng.randrange(10**9)}")

    def js(body):
        return json.dumps(body).encode()

    def post_score(body):
        return "POST", "/v1/score", ok, js(body)

    return [
        ("score", 30, {200}, lambda rng: ("POST", "/v1/score", ok, js(listing(rng)))),
        (
            "batch",
            8,
            {200},
            lambda rng: (
                "POST",
                "/v1/score/batch",
                ok,
                js({"listings": [listing(rng) for _ in range(rng.randint(1, MAX_BATCH))]}),
            ),
        ),
        (
            "feedback",
            15,
            {201},
            lambda rng: (
                "POST",
                "/v1/feedback",
                ok,
                js({"verdict": rng.choice(["scam", "legitimate", "unsure"]), "note": "soak", "listing": listing(rng)}),
            ),
        ),
        ("store", 3, {200}, lambda rng: ("POST", "/v1/score", ok, js({**listing(rng), "store": True}))),
        ("model", 2, {200}, lambda rng: ("GET", "/v1/model", ok, None)),
        ("bad_json", 4, {400}, lambda rng: ("POST", "/v1/score", ok, b'{"text": "unterminated')),
        ("deep_json", 1, {400, 422}, lambda rng: ("POST", "/v1/score", ok, b"[" * 50_000 + b"]" * 50_000)),
        ("missing_field", 4, {422}, lambda rng: ("POST", "/v1/feedback", ok, js({"listing": listing(rng)}))),
        ("empty_text", 4, {422}, lambda rng: ("POST", "/v1/score", ok, js({"text": "   ", "title": ""}))),
        ("unknown_field", 3, {422}, lambda rng: ("POST", "/v1/score", ok, js({"descripton": "typo"}))),
        ("bad_type", 3, {422}, lambda rng: ("POST", "/v1/score", ok, js({"text": ["a"], "threshold": "high"}))),
        ("oversize", 2, {413}, lambda rng: ("POST", "/v1/score", ok, js({"text": "x" * 1_100_000}))),
        (
            "too_many",
            2,
            {413},
            lambda rng: ("POST", "/v1/score/batch", ok, js({"listings": [listing(rng) for _ in range(MAX_BATCH + 1)]})),
        ),
        ("wrong_key", 4, {401}, lambda rng: ("POST", "/v1/score", {**ok, "X-API-Key": "lsk_wrong"}, js(listing(rng)))),
        ("no_key", 3, {401}, lambda rng: ("POST", "/v1/score", {"Content-Type": "application/json"}, js(listing(rng)))),
        (
            "rate_limited_key",
            4,
            {200, 429},
            lambda rng: ("POST", "/v1/score", {**ok, "X-API-Key": keys["slow"]}, js(listing(rng))),
        ),
        ("media_type", 2, {415}, lambda rng: ("POST", "/v1/score", {**ok, "Content-Type": "text/plain"}, b"hello")),
        ("not_found", 2, {404}, lambda rng: ("GET", "/v1/nothing", ok, None)),
        ("wrong_method", 1, {405}, lambda rng: ("GET", "/v1/score", ok, None)),
        ("odd_unicode", 3, {200}, lambda rng: post_score({"text": ODD_UNICODE * rng.randint(1, 50), "title": "\x00"})),
        ("html", 3, {200}, lambda rng: post_score({"html": "<div>" * 500 + ODD_HTML + "</div>" * 10})),
        ("health", 1, {200}, lambda rng: ("GET", "/readyz", {}, None)),
        # 422 for the ones that are only whitespace (empty_listing), or past the scoring budget.
        ("pathological", 3, {200, 422}, lambda rng: ("POST", "/v1/score", ok, js(rng.choice(pathological)))),
    ]


class Tally:
    def __init__(self):
        self.by_kind: dict[str, Counter] = {}
        self.unexpected: Counter = Counter()
        self.server_errors = 0
        self.transport_errors = Counter()
        self.acked_feedback: set[int] = set()
        self.examples: dict[str, str] = {}
        self.good_latency: list[float] = []
        self.good_latency_by_kind: dict[str, list[float]] = {}

    def record(self, kind: str, status, expected: set[int], body: bytes | None) -> None:
        self.by_kind.setdefault(kind, Counter())[str(status)] += 1
        if isinstance(status, int):
            if status >= 500:
                self.server_errors += 1
                self.examples.setdefault(f"{kind}:{status}", (body or b"")[:300].decode("utf-8", "replace"))
            if status not in expected:
                self.unexpected[f"{kind}:{status}"] += 1
                self.examples.setdefault(f"{kind}:{status}", (body or b"")[:300].decode("utf-8", "replace"))


async def client_loop(
    base_ref: list[str], kinds, rng: random.Random, tally: Tally, stop: asyncio.Event, outage: asyncio.Event
) -> None:
    names = [k[0] for k in kinds]
    weights = [k[1] for k in kinds]
    by_name = {k[0]: k for k in kinds}
    async with httpx.AsyncClient(timeout=60) as client:
        while not stop.is_set():
            name = rng.choices(names, weights)[0]
            _, _, expected, build = by_name[name]
            method, path, headers, body = build(rng)
            try:
                sent = time.perf_counter()
                r = await client.request(method, base_ref[0] + path, headers=headers, content=body)
                if name in GOOD_KINDS and r.status_code in (200, 201) and not outage.is_set():
                    tally.good_latency.append(time.perf_counter() - sent)
                    tally.good_latency_by_kind.setdefault(name, []).append(time.perf_counter() - sent)
            except httpx.HTTPError as exc:
                # Connection refused/reset while the server is down is expected; anything else is counted.
                tally.transport_errors["during_outage" if outage.is_set() else f"{name}:{type(exc).__name__}"] += 1
                await asyncio.sleep(0.05)
                continue
            tally.record(name, r.status_code, expected, r.content)
            if name == "feedback" and r.status_code == 201:
                tally.acked_feedback.add(r.json()["id"])


async def soak(args, tmp: Path, keys_file: Path, keys: dict[str, str], database_url: str, report: dict) -> None:
    listings = load_listings()
    kinds = request_kinds(listings, keys)
    tally = Tally()
    stop, outage = asyncio.Event(), asyncio.Event()
    server = await asyncio.to_thread(start_server, args, tmp, keys_file, database_url)
    base_ref = [server.base]
    segments = [{"started_s": 0.0, "rss_mb": []}]
    t0 = time.monotonic()
    clients = [
        asyncio.create_task(client_loop(base_ref, kinds, random.Random(i), tally, stop, outage))
        for i in range(args.clients)
    ]
    duration = args.minutes * 60
    kill_at = duration * args.kill_at if args.kill_at > 0 else None
    killed = False
    try:
        while (elapsed := time.monotonic() - t0) < duration:
            await asyncio.sleep(args.sample_seconds)
            segments[-1]["rss_mb"].append((round(time.monotonic() - t0, 1), round(rss_mb(worker_pids(server)), 1)))
            print(
                f"  {elapsed:6.0f}s  rss {segments[-1]['rss_mb'][-1][1]:7.1f} MB  5xx {tally.server_errors}  unexpected {sum(tally.unexpected.values())}  "
                f"acked feedback {len(tally.acked_feedback)}",
                flush=True,
            )
            if kill_at is not None and not killed and elapsed >= kill_at:
                killed = True
                acked_before = len(tally.acked_feedback)
                outage.set()
                for pid in reversed(tree(server.proc.pid)):  # workers and supervisor, all at once
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                server.proc.wait()
                server.stop()
                print(
                    f"  kill -9 at {elapsed:.0f}s with {acked_before} feedback rows acknowledged; restarting",
                    flush=True,
                )
                restart = time.monotonic()
                server = await asyncio.to_thread(start_server, args, tmp, keys_file, database_url)
                base_ref[0] = server.base
                await asyncio.sleep(0.5)
                outage.clear()
                report["kill"] = {
                    "at_s": round(elapsed, 1),
                    "acked_before_kill": acked_before,
                    "restart_s": round(time.monotonic() - restart, 1),
                }
                segments.append({"started_s": round(time.monotonic() - t0, 1), "rss_mb": []})
    finally:
        stop.set()
        await asyncio.gather(*clients, return_exceptions=True)
        server.stop()

    # Count the rows on disk after a clean stop.
    from sqlalchemy import select

    from lurescan.serve.db import Database, Feedback

    db = Database(database_url)
    with db.session() as session:
        stored = set(session.scalars(select(Feedback.id)))
    db.dispose()
    lost = sorted(tally.acked_feedback - stored)

    for seg in segments:
        samples = [mb for t, mb in seg["rss_mb"] if t - seg["started_s"] >= args.rss_warmup]
        if len(samples) >= 4:
            quarter = max(1, len(samples) // 4)
            early, late = statistics.median(samples[:quarter]), statistics.median(samples[-quarter:])
            seg["rss_growth_mb"] = round(late - early, 1)
            seg["rss_early_mb"], seg["rss_late_mb"] = round(early, 1), round(late, 1)
    total = sum(sum(c.values()) for c in tally.by_kind.values())
    if tally.good_latency:
        report["good_latency_ms"] = _latency_summary(tally.good_latency)
        report["good_latency_ms_by_kind"] = {k: _latency_summary(v) for k, v in sorted(tally.good_latency_by_kind.items())}
    report.update(
        requests=total,
        requests_per_s=round(total / (args.minutes * 60), 1),
        by_kind={k: dict(v) for k, v in sorted(tally.by_kind.items())},
        server_errors_5xx=tally.server_errors,
        unexpected_statuses=dict(tally.unexpected),
        examples=tally.examples,
        transport_errors=dict(tally.transport_errors),
        feedback_acknowledged=len(tally.acked_feedback),
        feedback_rows_in_db=len(stored),
        feedback_lost=len(lost),
        lost_ids=lost[:50],
        memory_segments=segments,
    )


def _latency_summary(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "p50": round(1000 * ordered[len(ordered) // 2], 1),
        "p99": round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--bundle", help="Bundle directory (default: the packaged bundle).")
    parser.add_argument("--database-url", help="Default: a fresh SQLite file.")
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="Fraction of the run at which to kill -9 the server (0 = never)."
    )
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--rss-warmup", type=float, default=30.0, help="Seconds after each start before RSS counts.")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "soak.json")
    args = parser.parse_args(argv)

    report = {"machine": machine(), "minutes": args.minutes, "clients": args.clients, "workers": args.workers}
    print(
        f"soak: {args.minutes} min, {args.clients} clients, {args.workers} workers on {report['machine']['cpu']}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="lurescan-soak-") as tmp_dir:
        tmp = Path(tmp_dir)
        keys_file = tmp / "keys.json"
        keys = make_keys(keys_file)
        database_url = args.database_url or f"sqlite:///{tmp / 'soak.sqlite3'}"
        if args.database_url:
            from sqlalchemy import delete

            from lurescan.serve.db import Database, Feedback

            db = Database(database_url)
            db.create_tables()
            with db.session() as s, s.begin():
                s.execute(delete(Feedback).where(Feedback.api_key == "soak"))
            db.dispose()
        asyncio.run(soak(args, tmp, keys_file, keys, database_url, report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")

    print(f"\nrequests: {report['requests']} ({report['requests_per_s']}/s)")
    for kind, counts in report["by_kind"].items():
        print(f"  {kind:18s} {counts}")
    print(f"5xx: {report['server_errors_5xx']}; unexpected statuses: {report['unexpected_statuses'] or 'none'}")
    if "good_latency_ms" in report:
        print(f"good requests: p50 {report['good_latency_ms']['p50']} ms, p99 {report['good_latency_ms']['p99']} ms")
        for kind, summary in report["good_latency_ms_by_kind"].items():
            print(f"  {kind:10s} n={summary['n']} p50 {summary['p50']} ms, p99 {summary['p99']} ms")
    print(f"transport errors: {report['transport_errors'] or 'none'}")
    for i, seg in enumerate(report["memory_segments"]):
        if "rss_growth_mb" in seg:
            print(
                f"RSS of workers, run {i + 1}: {seg['rss_early_mb']} MB early -> {seg['rss_late_mb']} MB late ({seg['rss_growth_mb']:+} MB)"
            )
    print(
        f"feedback: {report['feedback_acknowledged']} acknowledged, {report['feedback_rows_in_db']} in the database, {report['feedback_lost']} lost"
    )
    print(f"wrote {args.out}")
    ok = report["server_errors_5xx"] == 0 and not report["unexpected_statuses"] and report["feedback_lost"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
