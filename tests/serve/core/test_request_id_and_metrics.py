"""What a job board integrating the API needs (issue 15): a request id and
the rate limit's state on every answer, /metrics behind an admin key when
keys are on, metrics by route template, error type, language and score."""

from __future__ import annotations

from serve_samples import SCAM_AD


def test_every_answer_has_a_request_id(client):
    ok = client.post("/v1/score", json={"text": SCAM_AD})
    bad = client.post("/v1/score", json={"nope": 1})
    missing = client.get("/v1/nothing")
    ids = [r.headers["X-Request-ID"] for r in (ok, bad, missing)]
    assert len(set(ids)) == 3 and all(len(i) == 32 for i in ids)
    echoed = client.post("/v1/score", json={"text": SCAM_AD}, headers={"X-Request-ID": "board-42:req.7"})
    assert echoed.headers["X-Request-ID"] == "board-42:req.7"
    for unsafe in ("has spaces", "y" * 300, "new\\nline"):
        assert client.get("/healthz", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"] != unsafe


def test_request_id_on_middleware_errors(make_client):
    with make_client(max_body_bytes=2048) as client:
        response = client.post("/v1/score", content=b"{" + b" " * 5000 + b"}", headers={"Content-Type": "application/json"})
        assert response.status_code == 413 and response.headers["X-Request-ID"]


def test_rate_limit_headers(make_client):
    with make_client(max_batch_items=3, rate_limit_burst=5, rate_limit_per_second=0.5) as client:
        first = client.post("/v1/score", json={"text": SCAM_AD})
        assert first.headers["X-RateLimit-Limit"] == "5"
        assert first.headers["X-RateLimit-Remaining"] == "4"
        assert int(first.headers["X-RateLimit-Reset"]) >= 1
        batch = client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD}] * 3})
        assert batch.headers["X-RateLimit-Remaining"] == "1"
        refused = client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD}] * 3})
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] and refused.headers["X-RateLimit-Remaining"] == "1"


def test_metrics_need_an_admin_key_when_keys_are_on(make_client, keys_file, keys):
    with make_client(api_keys_file=keys_file) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"X-API-Key": keys["board-a"]}).status_code == 403
        assert client.get("/metrics", headers={"X-API-Key": keys["ops"]}).status_code == 200
    with make_client(api_keys_file=keys_file, metrics_public=True) as client:
        assert client.get("/metrics").status_code == 200


def _samples(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name + "{")]


def test_metrics_by_route_template_error_type_language_and_score(make_client):
    with make_client(max_batch_items=3, rate_limit_burst=10) as client:
        client.post("/v1/score", json={"text": SCAM_AD, "language": "en"})
        client.post("/v1/score", json={"nope": 1})
        client.post("/v1/score/batch", json={"listings": [{"text": "a"}] * 9})  # 413 before routing
        client.post("/v1/score", content=b"x", headers={"Content-Type": "text/plain"})  # 415 before routing
        text = client.get("/metrics").text
    errors = _samples(text, "lurescan_http_errors_total")
    assert any('route="/v1/score"' in s and 'type="validation_error"' in s for s in errors), errors
    assert any('route="/v1/score/batch"' in s and 'type="too_many_items"' in s for s in errors), errors
    assert any('route="/v1/score"' in s and 'type="unsupported_media_type"' in s for s in errors), errors
    requests = _samples(text, "lurescan_http_requests_total")
    assert not any('route="other"' in s for s in requests), requests
    scores = _samples(text, "lurescan_scam_probability_bucket")
    assert any('language="en"' in s and 'endpoint="single"' in s for s in scores), scores


def test_limits_are_declared_in_the_openapi_schema(make_client):
    with make_client(max_batch_items=100, max_note_chars=500) as client:
        schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert components["BatchRequest"]["properties"]["listings"]["maxItems"] == 100
    note = components["FeedbackRequest"]["properties"]["note"]
    assert {"type": "string", "maxLength": 500} in note["anyOf"]
    limited = schema["paths"]["/v1/score/batch"]["post"]["responses"]["429"]
    assert {"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(limited["headers"])
    assert all("X-Request-ID" in r["headers"] for r in schema["paths"]["/v1/score"]["post"]["responses"].values())


def test_per_item_batch_results(client):
    listings = [
        {"id": "ok-1", "text": SCAM_AD},
        {"id": "empty", "text": ""},
        {"id": "bad", "title": 5, "text": "x"},
        {"id": "unknown", "text": "x", "lang": "en"},
        {"id": "ok-2", "text": "Barista, part-time, Hanoi"},
    ]
    response = client.post("/v1/score/batch", json={"listings": listings, "per_item": True})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["id"] for r in results] == ["ok-1", "empty", "bad", "unknown", "ok-2"]
    assert "scam_probability" in results[0] and "scam_probability" in results[4]
    assert results[1]["error"]["type"] == "empty_listing"
    assert results[2]["error"]["type"] == "validation_error" and results[2]["error"]["details"][0]["loc"][:3] == ["listings", 2, "title"]
    assert "scam_probability" in results[3] and results[3]["warnings"]  # unknown field: ignored, named
    # Without per_item the batch is refused as before, naming the item.
    whole = client.post("/v1/score/batch", json={"listings": listings})
    assert whole.status_code == 422 and whole.json()["error"]["details"][0]["loc"][:2] == ["listings", 1]


def test_per_item_budget_error_stays_in_its_item(make_client):
    with make_client(score_budget_seconds=1e-9) as client:
        response = client.post("/v1/score/batch", json={"listings": [{"id": "a", "text": SCAM_AD}], "per_item": True})
        assert response.status_code == 200, response.text
        assert response.json()["results"][0] == {
            "id": "a",
            "error": {"type": "scoring_budget_exceeded", "message": response.json()["results"][0]["error"]["message"]},
        }


def test_unknown_fields_are_ignored_with_a_warning(client):
    """`lang`, `source` from a CSV were refused; now they are named in warnings."""
    r = client.post("/v1/score", json={"text": SCAM_AD, "lang": "en", "source": "csv"})
    assert r.status_code == 200, r.text
    assert r.json()["warnings"] == [
        "unknown field 'lang' ignored (strict_fields would refuse it)",
        "unknown field 'source' ignored (strict_fields would refuse it)",
    ]
    assert "warnings" not in client.post("/v1/score", json={"text": SCAM_AD}).json()
    batch = client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD, "lang": "en"}, {"text": SCAM_AD}]})
    assert [len(x.get("warnings", [])) for x in batch.json()["results"]] == [1, 0]
    # Text only under an unknown name is still refused, naming it (the likely typo).
    typo = client.post("/v1/score", json={"descripton": SCAM_AD})
    assert typo.status_code == 422 and typo.json()["error"]["details"][0]["loc"] == ["descripton"]


def test_strict_fields_refuses_unknown_fields(make_client):
    with make_client(strict_fields=True) as client:
        r = client.post("/v1/score", json={"text": SCAM_AD, "lang": "en"})
        assert r.status_code == 422
        assert r.json()["error"]["details"][0] == {"loc": ["lang"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
        per_item = client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD, "lang": "en"}, {"text": SCAM_AD}], "per_item": True})
        results = per_item.json()["results"]
        assert results[0]["error"]["details"][0]["loc"] == ["listings", 0, "lang"] and "scam_probability" in results[1]
