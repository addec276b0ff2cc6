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


def wait_ready(proc: subprocess.Popen, base: str, log_path: Path, timeout: float = 120) -> None:
    """Wait for /readyz to answer 200 (what a load balancer's health check does), or fail with the log."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=10) as client:
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server at {base} did not start:\n" + Path(log_path).read_text(errors="replace"))
            time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 30 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
            wait_ready(proc, base, log_path)
            yield proc, base
        finally:
            stop(proc)


CHROMIUM = os.environ.get("LURESCAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextlib.contextmanager
def app_in_thread(app, port: int) -> Iterator[str]:
    """The ASGI app under uvicorn in a thread on loopback `port`: its base URL while the block runs."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextlib.contextmanager
def chromium_page():
    """A page of Debian's Chromium driven by Playwright (the test is skipped where Chromium is missing)."""
    import shutil

    import pytest

    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install -y chromium, or `make browser`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page()
        finally:
            browser.close()
