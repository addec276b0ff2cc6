"""`lurescan keys create` and the checks `lurescan serve` makes before starting."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from lurescan.cli import app
from lurescan.serve.core.config import read_keys_file
from lurescan.serve.core.security import hash_key


@pytest.fixture(autouse=True)
def _restore_environment():
    """`lurescan serve` hands its options to the workers through LURESCAN_* variables; undo them."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_keys_create_prints_the_key_once_and_stores_its_hash(tmp_path):
    path = tmp_path / "keys.json"
    result = CliRunner().invoke(app, ["keys", "create", "board-a", "--file", str(path)])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("lsk_") and key not in path.read_text()
    [entry] = read_keys_file(path)
    assert entry.name == "board-a" and entry.sha256 == hash_key(key) and not entry.admin
    result = CliRunner().invoke(app, ["keys", "create", "ops", "--file", str(path), "--admin"])
    assert result.exit_code == 0
    assert [k.admin for k in read_keys_file(path)] == [False, True]
    assert (path.stat().st_mode & 0o777) == 0o600
    result = CliRunner().invoke(app, ["keys", "create", "ops", "--file", str(path)])
    assert result.exit_code == 1 and "exists already" in result.output


def test_serve_refuses_a_public_address_without_keys(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "no API keys configured" in result.output and "Traceback" not in result.output


def test_serve_refuses_open_mode_on_a_public_address(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--open"])
    assert result.exit_code == 1 and "open mode is for local use" in result.output


def test_serve_refuses_a_missing_bundle(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["serve", "--model", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "no such bundle" in result.output


def test_serve_refuses_a_broken_keys_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keys.json").write_text(json.dumps({"keys": [{"name": "a"}]}))
    result = CliRunner().invoke(app, ["serve", "--keys-file", str(tmp_path / "keys.json")])
    assert result.exit_code == 1 and "not a valid API keys file" in result.output
