"""`lurescan serve` as deployed: several uvicorn workers in real processes.

Checks what only a multi-process server shows: /metrics aggregates every
worker (prometheus multiprocess mode), every worker follows a replaced
bundle, and SIGHUP (uvicorn's rolling restart) drops no request.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from live_server import free_port, stop, wait_ready
from serve_samples import SCAM_AD, copy_bundle


@pytest.fixture(scope="module")
def server(api_bundle, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("workers")
    live = copy_bundle(api_bundle, tmp_path / "live", "v1")
    port = free_port()
    env = {**os.environ, "LURESCAN_RELOAD_POLL_SECONDS": "0.2", "LURESCAN_RATE_LIMIT_ENABLED": "false", "PYTHONWARNINGS": "ignore"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [sys.executable, "-m", "lurescan", "serve", "--workers", "2", "--port", str(port), "--model", str(live)]
    cmd += ["--database-url", f"sqlite:///{tmp_path / 'w.sqlite3'}", "--log-level", "warning"]
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, base, tmp_path / "server.log")
        yield proc, base, live
    finally:
        stop(proc)
        log.close()


def workers_of(proc: subprocess.Popen) -> set[int]:
    path = f"/proc/{proc.pid}/task/{proc.pid}/children"
    with open(path) as fh:
        return {int(pid) for pid in fh.read().split()}


def versions_seen(client: httpx.Client, n: int) -> set[str]:
    return {client.post("/v1/score", json={"text": SCAM_AD}).json()["model_version"] for _ in range(n)}


def test_metrics_aggregate_workers_and_every_worker_follows_the_bundle(server, api_bundle):
    _proc, base, live = server
    with httpx.Client(base_url=base, timeout=30) as client:
        assert versions_seen(client, 20) == {"v1"}
        metrics = client.get("/metrics").text
        counted = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("lurescan_http_requests_total{") and 'route="/v1/score"' in line
        )
        assert counted == 20  # all workers' requests, aggregated

        # Replacing the bundle on disk reloads every worker.
        shutil.rmtree(live)
        copy_bundle(api_bundle, live, "v2")
        deadline = time.monotonic() + 60
        while versions_seen(client, 10) != {"v2"}:
            assert time.monotonic() < deadline, "workers did not all reload"
            time.sleep(0.3)


@pytest.mark.slow
def test_sighup_rolling_restart_drops_no_request(server):
    proc, base, _live = server
    with httpx.Client(base_url=base, timeout=30) as client:
        # SIGHUP: uvicorn replaces each worker after its successor is up; no request fails meanwhile.
        failures, done, stop = [], [0], threading.Event()

        def hammer():
            with httpx.Client(base_url=base, timeout=30) as c:
                while not stop.is_set():
                    try:
                        r = c.post("/v1/score", json={"text": SCAM_AD})
                        if r.status_code != 200:
                            failures.append(r.status_code)
                    except httpx.TransportError as exc:
                        failures.append(repr(exc))
                    done[0] += 1

        before = workers_of(proc)
        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            time.sleep(0.5)
            proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 120
            while len(before - workers_of(proc)) < 2:  # both original workers retired
                assert time.monotonic() < deadline, "workers were not replaced"
                time.sleep(0.2)
            time.sleep(1.0)
        finally:
            stop.set()
            thread.join()
        assert done[0] > 20 and failures == []
        assert client.get("/readyz").status_code == 200
