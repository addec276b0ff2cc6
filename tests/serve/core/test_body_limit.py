"""Size limits before parsing (issue 15): the batch item count is checked on
the raw body, error bodies are capped, and the rate limit charges what a
request asks for, valid or not."""

from __future__ import annotations

import json
import resource
import time

import pytest
from serve_samples import SCAM_AD

from lurescan.serve.core.batch_precheck import count_structure


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text[:500]
    return response.json()["error"]


@pytest.mark.parametrize(
    "body, objects",
    [
        (b'{"listings": [{"text": "a"}, {"text": "b"}]}', 3),
        (b'{"listings": [{"text": "{{{{ not objects }}}}"}]}', 2),
        (b'{"listings": [{"text": "quote \\" and {brace"}]}', 2),
        (b'{"listings": [{"text": "backslash \\\\"}, {"text": "x"}]}', 3),
        (b"[]", 0),
    ],
)
def test_objects_are_counted_outside_strings(body, objects):
    assert count_structure(body)[0] == objects


def test_huge_batch_of_empty_objects_is_refused_before_validation(make_client):
    """200,000 `{}` took 11 s and answered 22 MB; 5 million took 7.2 GB."""
    body = b'{"listings": [' + b",".join([b"{}"] * 200_000) + b"]}"
    with make_client(rate_limit_enabled=False) as client:
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        response = client.post("/v1/score/batch", content=body, headers={"Content-Type": "application/json"})
        elapsed = time.perf_counter() - start
        err = error_of(response, 413)
        assert err["type"] == "too_many_items" and "200,000" in err["message"]
        assert len(response.content) < 2_000
        assert elapsed < 2.0
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 200_000  # KiB


def test_many_values_that_are_not_objects_are_refused_before_validation(make_client):
    body = json.dumps({"listings": ["x"] * 100_000}).encode()
    with make_client(rate_limit_enabled=False) as client:
        response = client.post("/v1/score/batch", content=body, headers={"Content-Type": "application/json"})
        err = error_of(response, 413)
        assert err["type"] == "too_many_items" and "JSON values" in err["message"]


def test_error_body_lists_the_first_problems_and_counts_the_rest(make_client):
    batch = {"listings": [{"text": SCAM_AD, "bogus_field": 1, "title": 5}] * 200}
    with make_client(rate_limit_enabled=False, max_error_details=10) as client:
        response = client.post("/v1/score/batch", json=batch)
        err = error_of(response, 422)
        assert len(err["details"]) == 10
        assert err["omitted"] >= 190
        assert len(response.content) < 5_000


def test_invalid_batch_is_charged_for_what_it_asked(make_client):
    """Before: a batch failing validation cost nothing, so bad traffic was free."""
    with make_client(max_batch_items=10, rate_limit_burst=10, rate_limit_per_second=0.01) as client:
        invalid = {"listings": [{"title": 5}] * 10}
        assert error_of(client.post("/v1/score/batch", json=invalid), 422)["type"] == "validation_error"
        err = error_of(client.post("/v1/score", json={"text": SCAM_AD}), 429)
        assert err["type"] == "rate_limited"


def test_refused_oversized_batch_is_charged_the_largest_batch(make_client):
    with make_client(max_batch_items=5, rate_limit_burst=8, rate_limit_per_second=0.01) as client:
        err = error_of(client.post("/v1/score/batch", json={"listings": [{"text": "a"}] * 50}), 413)
        assert err["type"] == "too_many_items"
        # 5 of 8 tokens are gone: a batch of 4 no longer fits.
        assert error_of(client.post("/v1/score/batch", json={"listings": [{"text": "a"}] * 4}), 429)["type"] == "rate_limited"


def test_refused_oversized_batch_needs_a_key(make_client, keys_file):
    with make_client(api_keys_file=keys_file, max_batch_items=5) as client:
        err = error_of(client.post("/v1/score/batch", json={"listings": [{"text": "a"}] * 50}), 401)
        assert err["type"] == "missing_api_key"


def test_batch_within_limits_still_scores(make_client):
    with make_client(max_batch_items=3, rate_limit_burst=10) as client:
        response = client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD, "id": "{x}"}] * 3})
        assert response.status_code == 200
        assert [r["id"] for r in response.json()["results"]] == ["{x}"] * 3


def test_large_request_costs_more_than_one_token(make_client):
    """A 110 s request once cost one token, like any other."""
    with make_client(max_batch_items=5, rate_limit_burst=10, rate_limit_per_second=0.01, rate_limit_bytes_per_token=10_000) as client:
        big = client.post("/v1/score", json={"text": SCAM_AD + " x" * 30_000})  # ~60 KB: 7 tokens
        assert big.status_code == 200
        assert big.headers["X-RateLimit-Remaining"] == "3"
        small = client.post("/v1/score", json={"text": SCAM_AD})
        assert small.headers["X-RateLimit-Remaining"] == "2"
