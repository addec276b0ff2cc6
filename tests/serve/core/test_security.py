"""Keys revocable without a restart, a read deadline for slow clients,
X-Forwarded-For trusted only from configured proxies (issue 15)."""

from __future__ import annotations

import json
import signal
import socket
import time

import httpx
import pytest
from live_server import live_server
from serve_samples import SCAM_AD

from lurescan.serve.core.config import Settings


def _write_keys(path, entries) -> None:
    path.write_text(json.dumps({"keys": [k.model_dump(exclude_none=True) for k in entries]}))


def test_removed_key_is_refused_after_admin_reload(make_client, keys_file, key_entries, keys):
    with make_client(api_keys_file=keys_file) as client:
        board = {"X-API-Key": keys["board-a"]}
        assert client.post("/v1/score", json={"text": SCAM_AD}, headers=board).status_code == 200
        _write_keys(keys_file, [k for k in key_entries if k.name != "board-a"])
        assert client.post("/v1/admin/reload", headers={"X-API-Key": keys["ops"]}).status_code == 200
        response = client.post("/v1/score", json={"text": SCAM_AD}, headers=board)
        assert response.status_code == 401 and response.json()["error"]["type"] == "invalid_api_key"
        assert client.post("/v1/score", json={"text": SCAM_AD}, headers={"X-API-Key": keys["board-b"]}).status_code == 200


def test_broken_keys_file_keeps_the_keys_in_force(make_client, keys_file, keys):
    with make_client(api_keys_file=keys_file) as client:
        keys_file.write_text("{not json")
        response = client.post("/v1/admin/reload", headers={"X-API-Key": keys["ops"]})
        assert response.status_code == 422 and response.json()["error"]["type"] == "invalid_keys_file"
        assert client.post("/v1/score", json={"text": SCAM_AD}, headers={"X-API-Key": keys["board-a"]}).status_code == 200


def test_every_worker_follows_the_keys_file(make_client, keys_file, key_entries, keys):
    with make_client(api_keys_file=keys_file, reload_poll_seconds=0.1) as client:
        board = {"X-API-Key": keys["board-a"]}
        assert client.post("/v1/score", json={"text": SCAM_AD}, headers=board).status_code == 200
        _write_keys(keys_file, [k for k in key_entries if k.name != "board-a"])
        deadline = time.monotonic() + 10
        while client.post("/v1/score", json={"text": SCAM_AD}, headers=board).status_code != 401:
            assert time.monotonic() < deadline, "the removed key still works"
            time.sleep(0.1)


def test_forwarded_proxies_setting_accepts_a_list():
    assert Settings(forwarded_allow_ips="10.0.0.1, 10.0.0.2", _env_file=None).forwarded_allow_ips == ["10.0.0.1", "10.0.0.2"]
    assert Settings(_env_file=None).forwarded_allow_ips == []


@pytest.fixture(scope="module")
def open_server(api_bundle, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hardening")
    env = {
        "LURESCAN_REQUEST_READ_TIMEOUT": "1",
        "LURESCAN_MAX_BATCH_ITEMS": "5",
        "LURESCAN_RATE_LIMIT_BURST": "5",
        "LURESCAN_RATE_LIMIT_PER_SECOND": "0.01",
    }
    with live_server(tmp_path, api_bundle, env=env) as (proc, base):
        yield proc, base


def test_rotating_forwarded_for_does_not_bypass_the_rate_limit(open_server):
    """12,850 requests in 20 s passed with a new X-Forwarded-For each; now they share one bucket."""
    _proc, base = open_server
    statuses = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for i in range(10):
            headers = {"X-Forwarded-For": f"127.0.{i}.{i + 1}"}
            statuses.append(client.post("/v1/score", json={"text": SCAM_AD}, headers=headers).status_code)
    assert statuses.count(200) <= 5 and statuses.count(429) >= 5, statuses


def test_slow_client_is_disconnected_and_others_are_served(open_server):
    _proc, base = open_server
    port = int(base.rsplit(":", 1)[1])
    slow = []
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /v1/score HTTP/1.1\r\nHost: x\r\n")  # headers never finish
        slow.append(sock)
    start = time.monotonic()
    for sock in slow:
        sock.settimeout(5)
        assert sock.recv(1024) == b""  # closed by the server
        sock.close()
    assert time.monotonic() - start < 4
    # A body sent one byte at a time is cut off too.
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    closed_after = None
    start = time.monotonic()
    try:
        for _ in range(40):
            sock.sendall(b" ")
            time.sleep(0.1)
    except OSError:
        closed_after = time.monotonic() - start
    else:
        sock.settimeout(3)
        assert sock.recv(1024) == b""
        closed_after = time.monotonic() - start
    sock.close()
    assert closed_after < 6
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/healthz").status_code == 200


def test_sighup_reloads_the_keys(api_bundle, tmp_path, key_entries, keys):
    keys_path = tmp_path / "keys.json"
    _write_keys(keys_path, key_entries)
    with live_server(tmp_path, api_bundle, "--keys-file", str(keys_path)) as (proc, base):
        with httpx.Client(base_url=base, timeout=30) as client:
            board = {"X-API-Key": keys["board-a"]}
            assert client.post("/v1/score", json={"text": SCAM_AD}, headers=board).status_code == 200
            _write_keys(keys_path, [k for k in key_entries if k.name != "board-a"])
            proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 20
            while True:
                try:
                    if client.post("/v1/score", json={"text": SCAM_AD}, headers=board).status_code == 401:
                        break
                except httpx.TransportError:
                    pass  # a multi-process uvicorn restarts its workers on SIGHUP
                assert time.monotonic() < deadline, "the removed key still works after SIGHUP"
                time.sleep(0.2)


def test_keys_create_refuses_a_burst_the_server_would_refuse(tmp_path, monkeypatch):
    """`keys create --burst 10` was accepted, then the server refused to start with the key."""
    from typer.testing import CliRunner

    from lurescan.cli import app

    monkeypatch.delenv("LURESCAN_MAX_BATCH_ITEMS", raising=False)
    runner = CliRunner()
    keys = tmp_path / "keys.json"
    refused = runner.invoke(app, ["keys", "create", "board", "--file", str(keys), "--burst", "10"])
    assert refused.exit_code == 1 and "below the server's max_batch_items (256)" in refused.output
    assert not keys.exists()
    monkeypatch.setenv("LURESCAN_MAX_BATCH_ITEMS", "10")
    assert runner.invoke(app, ["keys", "create", "board", "--file", str(keys), "--burst", "10"]).exit_code == 0
