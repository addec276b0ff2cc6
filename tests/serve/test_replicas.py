"""Two `lurescan serve` replicas as deployed behind a load balancer: real processes on two
loopback ports sharing one rate limit through the real Redis and one PostgreSQL database;
then `lurescan feedback export` streams the verdicts back and `lurescan train` learns from them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pandas as pd
import pytest
from live_server import free_port, wait_ready
from serve_samples import SCAM_AD, postgres_schema

from lurescan.serve.core.security import generate_key, hash_key

REDIS_URL = os.environ.get("LURESCAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TIGHT_RATE = 0.05  # listings/s for the rate-limited key: no token comes back during the test

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def lurescan(*args, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "lurescan", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def redis_prefix():
    """A key prefix of this run on the real Redis; its keys are deleted afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    prefix = f"lurescan-replicas-{uuid.uuid4().hex[:10]}:"
    try:
        yield client, prefix
    finally:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
        client.close()


@pytest.fixture(scope="module")
def replica_schema():
    """A fresh schema on the real PostgreSQL server (URL, engine, schema), dropped afterwards."""
    with postgres_schema("lurescan_replicas") as found:
        yield found


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return {"board-a": generate_key(), "moderator": generate_key()}


@pytest.fixture(scope="module")
def replicas(api_bundle, redis_prefix, replica_schema, keys, tmp_path_factory):
    """Two `lurescan serve` processes with one configuration, as a load balancer would front them."""
    tmp_path = tmp_path_factory.mktemp("replicas")
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(
        json.dumps(
            {
                "keys": [
                    {"name": "board-a", "sha256": hash_key(keys["board-a"]), "rate_per_second": TIGHT_RATE, "burst": 4},
                    {"name": "moderator", "sha256": hash_key(keys["moderator"]), "rate_per_second": 500, "burst": 500},
                ]
            }
        )
    )
    _, prefix = redis_prefix
    database_url, _, _ = replica_schema
    env = {
        **os.environ,
        "LURESCAN_REDIS_PREFIX": prefix,
        "LURESCAN_RATE_LIMIT_FAIL_OPEN": "false",  # a Redis problem must show, not pass silently
        "LURESCAN_MAX_BATCH_ITEMS": "4",
        "LURESCAN_RELOAD_POLL_SECONDS": "0",
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    procs, bases, logs = [], [], []
    for name in ("a", "b"):
        port = free_port()
        log = open(tmp_path / f"replica-{name}.log", "wb")
        cmd = [sys.executable, "-m", "lurescan", "serve", "--port", str(port), "--model", str(api_bundle), "--keys-file", str(keys_file),
               "--database-url", database_url, "--redis-url", REDIS_URL, "--log-level", "warning"]
        procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path))
        bases.append(f"http://127.0.0.1:{port}")
        logs.append(log)
    try:
        for proc, base, log in zip(procs, bases, logs):
            wait_ready(proc, base, Path(log.name))  # what nginx's health check does
        yield bases
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, log in zip(procs, logs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def test_replicas_share_one_rate_limit_through_redis(replicas, keys, redis_prefix):
    redis_client, prefix = redis_prefix
    headers = {"X-API-Key": keys["board-a"]}
    a, b = (httpx.Client(base_url=base, headers=headers, timeout=30) for base in replicas)
    with a, b:
        # The key's burst is 4 listings: four requests spread over both replicas pass...
        codes = [(a if i % 2 else b).post("/v1/score", json={"text": SCAM_AD}).status_code for i in range(4)]
        assert codes == [200, 200, 200, 200]
        # ...and the fifth is refused by whichever replica gets it: one bucket, not one per process.
        for replica in (a, b):
            r = replica.post("/v1/score", json={"text": SCAM_AD})
            assert r.status_code == 429, r.text
            assert r.json()["error"]["type"] == "rate_limited"
            assert int(r.headers["Retry-After"]) >= 1
        # The bucket lives in Redis under this run's prefix.
        tokens = float(redis_client.hget(prefix + "board-a", "tokens"))
        assert 0 <= tokens < 1
        # Other keys have their own buckets.
        other = {"X-API-Key": keys["moderator"]}
        assert a.post("/v1/score", json={"text": SCAM_AD}, headers=other).status_code == 200


def test_feedback_from_both_replicas_exports_from_postgres_and_trains(replicas, keys, replica_schema, corpus_rows, tmp_path):
    import sqlalchemy as sa

    database_url, engine, schema = replica_schema
    scams = [r for r in corpus_rows if r["label"] == 1][:12]
    legit = [r for r in corpus_rows if r["label"] == 0][:12]
    fields = ("title", "company", "location", "salary", "contact", "text")
    verdicts = [(row, "scam") for row in scams] + [(row, "legitimate") for row in legit] + [(scams[0], "unsure"), (legit[0], "unsure")]

    headers = {"X-API-Key": keys["moderator"]}
    clients = [httpx.Client(base_url=base, headers=headers, timeout=30) for base in replicas]
    ids = []
    try:
        for i, (row, verdict) in enumerate(verdicts):
            listing = {f: row[f] for f in fields if row.get(f)}
            r = clients[i % 2].post("/v1/feedback", json={"verdict": verdict, "listing": listing, "note": f"replica {i % 2}"})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
    finally:
        for client in clients:
            client.close()
    assert len(set(ids)) == len(verdicts)  # one sequence in one database, whichever replica wrote

    with engine.connect() as conn:
        counts = dict(conn.execute(sa.text(f'select verdict, count(*) from "{schema}".feedback group by verdict')).all())
        notes = {n for (n,) in conn.execute(sa.text(f'select distinct note from "{schema}".feedback'))}
    assert counts == {"scam": 12, "legitimate": 12, "unsure": 2}
    assert notes == {"replica 0", "replica 1"}

    export = tmp_path / "feedback.csv"
    done = lurescan("feedback", "export", "--database-url", database_url, "--out", export, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    exported = pd.read_csv(export)
    assert len(exported) == 24 and sorted(exported["label"].value_counts().to_dict().items()) == [(0, 12), (1, 12)]
    assert {"id", "source", "lang", "title", "text", "label"} <= set(exported.columns)

    bundle = tmp_path / "retrained"
    done = lurescan("train", "--data", export, "--out", bundle, "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["kind"] == "baseline"
