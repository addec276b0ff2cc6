"""Every error a client can cause: JSON with a stable error.type, no stack trace."""

from __future__ import annotations

import json

import pytest
from serve_samples import SCAM_AD


def error_of(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    assert "Traceback" not in r.text
    assert body["error"]["message"]
    return body["error"]


def test_bad_json(client):
    err = error_of(
        client.post("/v1/score", content=b'{"text": "abc"', headers={"Content-Type": "application/json"}), 400
    )
    assert err["type"] == "invalid_json"


def test_body_not_json_media_type(client):
    err = error_of(
        client.post("/v1/score", content=b"text=abc", headers={"Content-Type": "application/x-www-form-urlencoded"}),
        415,
    )
    assert err["type"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "body, where",
    [
        ({"verdict": "scam"}, "listing"),  # feedback without a listing
        ({"listing": {"text": "x"}}, "verdict"),  # feedback without a verdict
    ],
)
def test_missing_fields_in_feedback(client, body, where):
    err = error_of(client.post("/v1/feedback", json=body), 422)
    assert err["type"] == "validation_error"
    assert where in err["message"] or any(where in ".".join(map(str, d["loc"])) for d in err["details"])


def test_missing_listings_in_batch(client):
    err = error_of(client.post("/v1/score/batch", json={"threshold": 0.5}), 422)
    assert err["type"] == "validation_error" and err["details"][0]["loc"] == ["listings"]


def test_wrong_types_and_unknown_fields(client):
    err = error_of(client.post("/v1/score", json={"text": SCAM_AD, "threshold": 2}), 422)
    assert err["type"] == "validation_error" and err["details"][0]["loc"] == ["threshold"]
    err = error_of(client.post("/v1/score", json={"descripton": SCAM_AD}), 422)
    assert err["details"][0]["loc"] == ["descripton"] and err["details"][0]["type"] == "extra_forbidden"
    err = error_of(client.post("/v1/score", json=["not", "an", "object"]), 422)
    assert err["type"] == "validation_error"


def test_error_details_do_not_echo_input(client):
    secret = "private-text-" * 50
    err = error_of(client.post("/v1/score", json={"text": secret, "threshold": "high"}), 422)
    assert secret not in json.dumps(err)


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   \n\t"}, {"id": "x"}, {}, {"title": "", "html": " "}])
def test_empty_listing(client, body):
    err = error_of(client.post("/v1/score", json=body), 422)
    assert err["type"] == "empty_listing"


def test_empty_listing_in_batch_names_its_position(client):
    err = error_of(client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD}, {"text": ""}]}), 422)
    assert err["type"] == "empty_listing"
    assert err["details"][0]["loc"][:2] == ["listings", 1]


def test_oversize_body_declared(make_client):
    with make_client(max_body_bytes=10_000) as client:
        err = error_of(client.post("/v1/score", json={"text": "x" * 20_000}), 413)
        assert err["type"] == "payload_too_large"
        # The batch endpoint has its own, larger limit.
        assert client.post("/v1/score/batch", json={"listings": [{"text": "x" * 20_000}]}).status_code == 200


def test_oversize_body_streamed_without_length(make_client):
    def chunks():
        yield b'{"text": "'
        for _ in range(20):
            yield b"y" * 1000
        yield b'"}'

    with make_client(max_body_bytes=10_000) as client:
        err = error_of(client.post("/v1/score", content=chunks(), headers={"Content-Type": "application/json"}), 413)
        assert err["type"] == "payload_too_large"


def test_too_many_items(make_client):
    with make_client(max_batch_items=3, rate_limit_burst=10) as client:
        err = error_of(client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD}] * 4}), 413)
        assert err["type"] == "too_many_items" and "3" in err["message"]
        assert client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD}] * 3}).status_code == 200


def test_empty_batch(client):
    err = error_of(client.post("/v1/score/batch", json={"listings": []}), 422)
    assert err["type"] == "validation_error"


def test_missing_key(make_client, keys_file):
    with make_client(api_keys_file=keys_file) as client:
        err = error_of(client.post("/v1/score", json={"text": SCAM_AD}), 401)
        assert err["type"] == "missing_api_key"


def test_wrong_key(make_client, keys_file, keys):
    with make_client(api_keys_file=keys_file) as client:
        err = error_of(
            client.post("/v1/score", json={"text": SCAM_AD}, headers={"X-API-Key": keys["board-a"] + "x"}), 401
        )
        assert err["type"] == "invalid_api_key"
        assert keys["board-a"] not in json.dumps(err)
        assert (
            client.post("/v1/score", json={"text": SCAM_AD}, headers={"X-API-Key": keys["board-a"]}).status_code == 200
        )


def test_open_mode_serves_loopback_clients_only(make_client):
    with make_client(client_addr=("203.0.113.9", 40000)) as client:
        err = error_of(client.post("/v1/score", json={"text": SCAM_AD}), 401)
        assert err["type"] == "missing_api_key"


def test_rate_limit_answers_429_with_retry_after(make_client):
    with make_client(rate_limit_per_second=0.5, rate_limit_burst=3, max_batch_items=3) as client:
        for _ in range(3):
            assert client.post("/v1/score", json={"text": SCAM_AD}).status_code == 200
        r = client.post("/v1/score", json={"text": SCAM_AD})
        err = error_of(r, 429)
        assert err["type"] == "rate_limited"
        assert int(r.headers["Retry-After"]) >= 1
        # A batch costs one token per listing.
        r = client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD}] * 3})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 5


def test_rate_limits_are_per_key(make_client, keys_file, keys):
    with make_client(
        api_keys_file=keys_file, rate_limit_per_second=0.1, rate_limit_burst=2, max_batch_items=2
    ) as client:
        a = {"X-API-Key": keys["board-a"]}
        b = {"X-API-Key": keys["board-b"]}
        assert [client.post("/v1/score", json={"text": "ad"}, headers=a).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        assert client.post("/v1/score", json={"text": "ad"}, headers=b).status_code == 200


def test_unknown_path_and_method(client):
    assert error_of(client.get("/v1/nothing"), 404)["type"] == "not_found"
    assert error_of(client.get("/v1/score"), 405)["type"] == "method_not_allowed"


def test_model_failure_is_a_500_without_details_and_does_not_affect_others(make_client):
    with make_client(raise_server_exceptions=False) as client:
        _check_model_failure(client)


def _check_model_failure(client):
    scorer = client.app.state.lurescan.holder.scorer
    original = scorer.score

    def broken(listings, threshold=None, **kw):
        if any(getattr(x, "text", None) == "boom" for x in listings):
            raise RuntimeError("secret internal detail")
        return original(listings, threshold=threshold, **kw)

    scorer.score = broken
    try:
        err = error_of(client.post("/v1/score", json={"text": "boom"}), 500)
        assert err["type"] == "internal_error" and "secret" not in err["message"]
        assert client.post("/v1/score", json={"text": SCAM_AD}).status_code == 200
    finally:
        scorer.score = original


def test_unpaired_surrogates_are_scored_not_crashed_on(client):
    # JSON may carry "\ud800" (valid JSON, invalid Unicode); offsets must still index the field as sent.
    text = "Work in Cambodia \ud800 Telegram @jobfast"
    body = json.dumps({"text": text, "title": "\udfff"})
    r = client.post("/v1/score", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    for reason in r.json()["reasons"]:
        assert text[reason["start"] : reason["end"]] == reason["text"]
    r = client.post(
        "/v1/feedback",
        content=json.dumps({"verdict": "scam", "note": "\udc00", "listing": {"text": text}}),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 201


def test_deeply_nested_json_is_a_client_error(client):
    r = client.post("/v1/score", content=b"[" * 50_000 + b"]" * 50_000, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_json"
