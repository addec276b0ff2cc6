"""Per-category scores, decisive rules, board context and per-key thresholds over HTTP."""

from __future__ import annotations

import json

from serve_samples import LEGIT_AD, SCAM_AD

from lurescan.model.kinds import scam_kinds
from lurescan.serve.core.config import ApiKeyEntry
from lurescan.serve.core.security import generate_key, hash_key

TRAFFICKING = "Receptionist wanted. Your passport will be kept by the company for safekeeping. Please don't tell your family."


def test_every_result_carries_categories_and_flags(client):
    body = client.post("/v1/score", json={"text": SCAM_AD}).json()
    assert set(body["categories"]) == set(scam_kinds()) == set(body["category_flags"])
    assert body["categories"]["overseas_lure"] > 0
    assert body["decided_by"] is None or body["flagged"]
    batch = client.post("/v1/score/batch", json={"listings": [{"text": SCAM_AD}, {"text": LEGIT_AD}]}).json()
    assert all(set(r["categories"]) == set(scam_kinds()) for r in batch["results"])


def test_a_decisive_rule_flags_and_says_which(client):
    body = client.post("/v1/score", json={"text": TRAFFICKING, "threshold": 0.9999}).json()
    assert body["flagged"] is True and body["risk_level"] == "high" and body["scam_probability"] < 0.9999
    decided = body["decided_by"]
    assert decided["category"] in {"documents_surrendered", "secrecy"}
    assert TRAFFICKING[decided["start"] : decided["end"]] == decided["text"]
    assert body["category_flags"]["trafficking"] is True


def test_model_lists_the_categories(client):
    info = client.get("/v1/model").json()
    names = [c["name"] for c in info["categories"]]
    assert names == list(scam_kinds()) and all(c["computed"] and c["description"] for c in info["categories"])
    assert info["key_threshold"] is None


def test_openapi_documents_categories(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    props = schema["ScoreResult"]["properties"]
    assert {"categories", "category_flags", "decided_by"} <= set(props)
    assert "board_country" in schema["ScoreRequest"]["properties"]


def test_board_country_is_validated(client):
    r = client.post("/v1/score", json={"text": SCAM_AD, "board_country": "Cambodia"})
    assert r.status_code == 422
    assert client.post("/v1/score", json={"text": SCAM_AD, "board_country": "KH"}).status_code == 200


def test_a_key_with_its_own_threshold(make_client, tmp_path):
    low, plain = generate_key(), generate_key()
    path = tmp_path / "keys.json"
    entries = [ApiKeyEntry(name="strict-board", sha256=hash_key(low), threshold=0.0), ApiKeyEntry(name="plain", sha256=hash_key(plain))]
    path.write_text(json.dumps({"keys": [e.model_dump(exclude_none=True) for e in entries]}))
    with make_client(api_keys_file=path) as client:
        strict = client.post("/v1/score", json={"text": LEGIT_AD}, headers={"X-API-Key": low}).json()
        default = client.post("/v1/score", json={"text": LEGIT_AD}, headers={"X-API-Key": plain}).json()
        mine = client.post("/v1/score", json={"text": LEGIT_AD, "threshold": 1.0}, headers={"X-API-Key": low}).json()
        info = client.get("/v1/model", headers={"X-API-Key": low}).json()
    assert strict["threshold"] == 0.0 and strict["flagged"] is True
    assert default["threshold"] == info["threshold"] and default["flagged"] is False
    assert mine["threshold"] == 1.0 and mine["flagged"] is False
    assert info["key_threshold"] == 0.0
