"""Fixtures for the API tests: a bundle, settings in tmp_path, keys, clients."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from serve_samples import LOCAL

from lurescan.serve.core.config import ApiKeyEntry, Settings
from lurescan.serve.core.security import generate_key, hash_key
from lurescan.serve.main import create_app


@pytest.fixture(autouse=True)
def _quiet_ruleset_warning():
    # A test bundle may predate the installed red-flag rules; the warning is the model's business.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*trained with other red-flag rules.*")
        yield


@pytest.fixture(scope="session")
def api_bundle(small_bundle) -> Path:
    return small_bundle


@pytest.fixture
def settings_factory(tmp_path, api_bundle):
    def make(**overrides) -> Settings:
        values = {
            "bundle_path": api_bundle,
            "database_url": f"sqlite:///{tmp_path / 'api.sqlite3'}",
            "reload_poll_seconds": 0,
            "_env_file": None,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def make_client(settings_factory):
    """`with make_client(**settings) as client:` a TestClient on a fresh app (lifespan run)."""

    @contextlib.contextmanager
    def make(client_addr=LOCAL, headers=None, raise_server_exceptions=True, **overrides) -> Iterator[TestClient]:
        app = create_app(settings_factory(**overrides))
        with TestClient(
            app, client=client_addr, headers=headers or {}, raise_server_exceptions=raise_server_exceptions
        ) as client:
            yield client

    return make


@pytest.fixture
def client(make_client) -> Iterator[TestClient]:
    """An open-mode client on loopback with default limits."""
    with make_client() as c:
        yield c


@pytest.fixture
def keys() -> dict[str, str]:
    """name -> plaintext key for two clients and an admin."""
    return {"board-a": generate_key(), "board-b": generate_key(), "ops": generate_key()}


@pytest.fixture
def key_entries(keys) -> list[ApiKeyEntry]:
    return [ApiKeyEntry(name=name, sha256=hash_key(key), admin=(name == "ops")) for name, key in keys.items()]


@pytest.fixture
def keys_file(tmp_path, key_entries) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [k.model_dump(exclude_none=True) for k in key_entries]}))
    return path
