"""/healthz, /readyz, /metrics and the page at / (no key needed)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from serve_samples import LOCAL, SCAM_AD

from lurescan.serve.main import create_app


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["model_version"]


def test_readyz_is_503_before_the_model_loads(settings_factory):
    app = create_app(settings_factory())
    client = TestClient(app, client=LOCAL)  # no `with`: the lifespan has not run, no model loaded
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["status"] == "loading"
    assert client.get("/healthz").status_code == 200
    r = client.post("/v1/score", json={"text": SCAM_AD})
    assert r.status_code == 503 and r.json()["error"]["type"] == "model_not_ready"


def sample(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_requests_latency_model_batches_and_flags(client):
    before = client.get("/metrics").text
    client.post("/v1/score", json={"text": SCAM_AD})
    client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD}] * 5})
    client.post("/v1/score", json={"text": ""})
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    after = r.text
    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)
    assert delta("lurescan_http_requests_total", route="/v1/score", status="200") == 1
    assert delta("lurescan_http_requests_total", route="/v1/score", status="422") == 1
    assert delta("lurescan_http_request_duration_seconds_count", route="/v1/score/batch") == 1
    assert delta("lurescan_model_seconds_count") >= 2
    assert delta("lurescan_model_batch_listings_sum") >= 6
    assert delta("lurescan_request_batch_listings_sum") == 5
    assert delta("lurescan_listings_scored_total", endpoint="batch") == 5
    assert (
        delta("lurescan_listings_flagged_total", endpoint="single")
        + delta("lurescan_listings_flagged_total", endpoint="single")
        >= 0
    )
    assert re.search(r'lurescan_model_info\{kind="baseline",model_version="[^"]+"\} 1\.0', after)


def test_unmatched_paths_share_one_metrics_label(client):
    client.get("/no/such/path/1")
    client.get("/no/such/path/2")
    text = client.get("/metrics").text
    assert "/no/such/path" not in text and 'route="unmatched"' in text


def test_page_is_served(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'id="ad"' in r.text and "/static/app.js" in r.text
    assert client.get("/static/app.js").status_code == 200


def test_openapi_documents_endpoints_and_limits(client):
    spec = client.get("/openapi.json").json()
    for path in ("/v1/score", "/v1/score/batch", "/v1/feedback", "/v1/model", "/healthz", "/readyz", "/metrics"):
        assert path in spec["paths"]
    assert "listings per batch | 256" in spec["info"]["description"]
    assert "X-API-Key" in str(spec["components"]["securitySchemes"])


def test_cors_allows_only_listed_origins(make_client):
    origin = "chrome-extension://abcdefghijklmnop"
    with make_client(cors_origins=[origin]) as client:
        pre = client.options(
            "/v1/score",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-api-key,content-type",
            },
        )
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == origin
        other = client.options(
            "/v1/score", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in other.headers
        r = client.post("/v1/score", json={"text": SCAM_AD}, headers={"Origin": origin})
        assert r.headers["access-control-allow-origin"] == origin
