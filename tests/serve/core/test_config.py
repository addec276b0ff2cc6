"""Settings: environment with the LURESCAN_ prefix, .env, lists, consistency checks, keys files."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from lurescan.serve.core.config import Settings, read_keys_file
from lurescan.serve.core.security import hash_key


def test_environment_with_prefix_and_lists(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LURESCAN_MAX_BATCH_ITEMS", "64")
    monkeypatch.setenv("LURESCAN_CORS_ORIGINS", "chrome-extension://a, https://board.example")
    monkeypatch.setenv("LURESCAN_API_KEYS", json.dumps([{"name": "board-a", "sha256": hash_key("k")}]))
    s = Settings()
    assert s.max_batch_items == 64
    assert s.cors_origins == ["chrome-extension://a", "https://board.example"]
    assert s.api_keys[0].name == "board-a"
    monkeypatch.setenv("LURESCAN_CORS_ORIGINS", '["chrome-extension://b"]')
    assert Settings().cors_origins == ["chrome-extension://b"]


def test_dotenv_file(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LURESCAN_DATABASE_URL=sqlite:///from-dotenv.sqlite3\nLURESCAN_WORKERS=3\n")
    s = Settings()
    assert s.database_url == "sqlite:///from-dotenv.sqlite3" and s.workers == 3


def test_defaults_are_safe(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.host == "127.0.0.1" and s.database_url.startswith("sqlite:///")
    assert s.effective_open_mode([]) is True  # loopback, no keys: local use
    assert Settings(host="0.0.0.0").effective_open_mode([]) is False


def test_open_mode_on_a_public_address_is_refused():
    with pytest.raises(ValidationError, match="open mode is for local use only"):
        Settings(host="0.0.0.0", open_mode=True, _env_file=None)


def test_burst_must_cover_a_full_batch():
    with pytest.raises(ValidationError, match="rate_limit_burst"):
        Settings(rate_limit_burst=10, max_batch_items=100, _env_file=None)


def test_keys_file_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_keys_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"keys": [{"name": "a", "sha256": "not-a-hash"}]}))
    with pytest.raises(ValueError, match=r"bad.json: not a valid API keys file \(keys.0.sha256"):
        read_keys_file(bad)
    dup = tmp_path / "dup.json"
    entry = {"name": "a", "sha256": hash_key("x")}
    dup.write_text(json.dumps({"keys": [entry, {**entry, "sha256": hash_key("y")}]}))
    with pytest.raises(ValueError, match="unique"):
        Settings(api_keys_file=dup, _env_file=None).load_api_keys()


def test_no_keys_and_no_open_mode_refuses_to_build_the_app(settings_factory):
    from lurescan.serve.main import ConfigurationError, create_app

    with pytest.raises(ConfigurationError, match="lurescan keys create"):
        create_app(settings_factory(open_mode=False))
