"""`lurescan serve` in a real process, for what only a real server shows
(probes answered while a worker scores, slow clients, signals)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def live_server(tmp_path: Path, bundle: Path, *args: str, env: dict | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """(process, base URL) of a one-worker server on a free loopback port, stopped afterwards."""
    port = free_port()
    environ = {**os.environ, "LURESCAN_RELOAD_POLL_SECONDS": "0", "PYTHONWARNINGS": "ignore", **(env or {})}
    environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [sys.executable, "-m", "lurescan", "serve", "--port", str(port), "--model", str(bundle)]
    cmd += ["--database-url", f"sqlite:///{tmp_path / 'live.sqlite3'}", "--log-level", "warning", *args]
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=environ, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            with httpx.Client(base_url=base, timeout=10) as client:
                while True:
                    try:
                        if client.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("server did not start:\n" + log_path.read_text())
                    time.sleep(0.2)
            yield proc, base
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
