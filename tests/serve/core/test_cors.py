"""CORS a browser extension can rely on: headers on every answer, errors included; preflights; 415; offline docs."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from serve_samples import SCAM_AD

from lurescan.serve.core.config import Settings

EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
OTHER = "https://evil.example"


@pytest.fixture
def cors_client(make_client):
    with make_client(
        cors_origins=[EXTENSION, "https://board.example"],
        rate_limit_per_second=0.1,
        rate_limit_burst=3,
        max_batch_items=3,
        max_body_bytes=4096,
        raise_server_exceptions=False,
    ) as client:
        yield client


def _allowed(r) -> bool:
    return r.headers.get("access-control-allow-origin") == EXTENSION and "origin" in r.headers.get("vary", "").lower()


def test_preflight_is_answered_with_private_network_access(cors_client):
    r = cors_client.options(
        "/v1/score",
        headers={
            "Origin": EXTENSION,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-api-key",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert r.status_code == 200 and r.content == b""
    assert _allowed(r)
    assert r.headers["access-control-allow-private-network"] == "true"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert {"x-api-key", "content-type"} <= {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}


def test_preflight_from_another_origin_is_refused(cors_client):
    r = cors_client.options("/v1/score", headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"})
    assert r.status_code == 403 and r.json()["error"]["type"] == "cors_origin_not_allowed"
    assert "access-control-allow-origin" not in r.headers


def test_cors_headers_on_success_and_on_every_error(cors_client):
    h = {"Origin": EXTENSION}
    ok = cors_client.post("/v1/score", json={"text": SCAM_AD}, headers=h)
    assert ok.status_code == 200 and _allowed(ok)
    assert "retry-after" in ok.headers["access-control-expose-headers"].lower()
    too_large = cors_client.post("/v1/score", json={"text": "x" * 10_000}, headers=h)
    assert too_large.status_code == 413 and _allowed(too_large)
    wrong_type = cors_client.post("/v1/score", content=b"text=abc", headers={**h, "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415 and _allowed(wrong_type)
    invalid = cors_client.post("/v1/score", json={"txet": "typo"}, headers=h)
    assert invalid.status_code == 422 and _allowed(invalid)
    statuses = [cors_client.post("/v1/score", json={"text": SCAM_AD}, headers=h) for _ in range(4)]
    limited = statuses[-1]
    assert limited.status_code == 429 and _allowed(limited) and limited.headers["retry-after"]


def test_cors_headers_on_a_500(cors_client):
    scorer = cors_client.app.state.lurescan.holder.scorer
    original = scorer.score

    def broken(listings, threshold=None, **kw):
        raise RuntimeError("secret detail")

    scorer.score = broken
    try:
        r = cors_client.post("/v1/score", json={"text": SCAM_AD}, headers={"Origin": EXTENSION})
    finally:
        scorer.score = original
    assert r.status_code == 500 and _allowed(r)
    assert r.json()["error"]["type"] == "internal_error" and "secret" not in r.text


def test_no_cors_headers_for_other_origins(cors_client):
    r = cors_client.post("/v1/score", json={"text": SCAM_AD}, headers={"Origin": OTHER})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def test_cors_is_off_unless_configured(client):
    r = client.post("/v1/score", json={"text": SCAM_AD}, headers={"Origin": EXTENSION})
    assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no content type at all
        {"Content-Type": "text/plain;charset=UTF-8"},  # what fetch() sends for a string body
        {"Content-Type": "application/x-www-form-urlencoded"},
    ],
)
def test_a_body_not_sent_as_json_is_415(client, headers):
    r = client.post("/v1/score", content=json.dumps({"text": SCAM_AD}).encode(), headers=headers)
    assert r.status_code == 415
    assert r.json()["error"]["type"] == "unsupported_media_type"


def test_json_variants_are_accepted(client):
    body = json.dumps({"text": SCAM_AD}).encode()
    for content_type in ("application/json", "application/json; charset=utf-8", "application/vnd.api+json"):
        assert client.post("/v1/score", content=body, headers={"Content-Type": content_type}).status_code == 200


@pytest.mark.parametrize("origin", ["https://board.example/", "board.example", "https://board.example/path", ""])
def test_a_malformed_origin_is_a_clear_settings_error(origin):
    with pytest.raises(ValidationError, match="not an origin"):
        Settings(cors_origins=[origin], _env_file=None)


def test_origins_from_the_environment(monkeypatch):
    monkeypatch.setenv("LURESCAN_CORS_ORIGINS", f"{EXTENSION}, https://Board.Example")
    assert Settings(_env_file=None).cors_origins == [EXTENSION, "https://board.example"]


def test_serve_passes_repeated_cors_origins_on(monkeypatch, tmp_path, api_bundle):
    import os

    import uvicorn
    from typer.testing import CliRunner

    from lurescan.cli import app

    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: None)
    monkeypatch.delenv("LURESCAN_CORS_ORIGINS", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env, and the default SQLite file lands here
    args = ["serve", "--model", str(api_bundle), "--database-url", f"sqlite:///{tmp_path / 'db.sqlite3'}"]
    result = CliRunner().invoke(app, [*args, "--cors-origin", EXTENSION, "--cors-origin", "https://board.example"])
    try:
        assert result.exit_code == 0, result.output
        assert json.loads(os.environ["LURESCAN_CORS_ORIGINS"]) == [EXTENSION, "https://board.example"]
        assert "CORS for" in result.output
    finally:
        for name in ("CORS_ORIGINS", "BUNDLE_PATH", "DATABASE_URL"):
            os.environ.pop(f"LURESCAN_{name}", None)


def test_docs_and_redoc_load_their_assets_from_this_server(client):
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        assert f"/docs-assets/{asset}" in html
        assert "cdn.jsdelivr.net" not in html and "fonts.googleapis.com" not in html
        r = client.get(f"/docs-assets/{asset}")
        assert r.status_code == 200 and len(r.content) > 100_000


def test_readme_tells_how_to_turn_cors_on():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text("utf-8")
    assert "--cors-origin" in readme and "LURESCAN_CORS_ORIGINS" in readme
