"""Bounded work per request in the API (issue 15): the pathological inputs are
answered quickly, a request past its scoring budget gets a typed error, and
the probes answer while a worker scores."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from live_server import live_server
from serve_samples import SCAM_AD

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "pathological.yaml"
INPUTS = yaml.safe_load(CORPUS.read_text("utf-8"))["inputs"]


def build(spec: dict) -> str:
    unit = spec["unit"]
    return (unit * (spec["chars"] // len(unit) + 1))[: spec["chars"]] + spec.get("tail", "")


@pytest.fixture(scope="module")
def server(api_bundle, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("bounded")
    with live_server(tmp_path, api_bundle, env={"LURESCAN_RATE_LIMIT_ENABLED": "false"}) as (_proc, base):
        yield base


def test_pathological_inputs_are_answered_quickly(server):
    with httpx.Client(base_url=server, timeout=60) as client:
        client.post("/v1/score", json={"text": SCAM_AD})  # warm
        slow = {}
        for spec in INPUTS:
            body = {field: build(spec) for field in spec["fields"]}
            start = time.perf_counter()
            response = client.post("/v1/score", json=body)
            elapsed = time.perf_counter() - start
            got = (response.status_code, response.json().get("error", {}).get("type"))
            # Text of spaces (or, once empty_listing knows them, invisible characters) only: no text.
            assert got == (200, None) or got == (422, "empty_listing"), (spec["name"], response.text[:300])
            if elapsed > 3.0:
                slow[spec["name"]] = round(elapsed, 1)
        assert not slow, f"seconds per request: {slow}"


def test_probes_answer_while_a_worker_scores(server):
    """A long batch scores off the event loop: /healthz and /readyz stay prompt."""
    listing = {"text": (SCAM_AD + " ") * 150, "description": "a." * 20_000}
    batch = {"listings": [dict(listing, id=str(i)) for i in range(60)]}
    done = threading.Event()
    outcome = {}

    def score() -> None:
        with httpx.Client(base_url=server, timeout=300) as client:
            start = time.perf_counter()
            outcome["status"] = client.post("/v1/score/batch", json=batch).status_code
            outcome["seconds"] = time.perf_counter() - start
        done.set()

    worker = threading.Thread(target=score)
    worker.start()
    probes = []
    with httpx.Client(base_url=server, timeout=30) as client:
        time.sleep(0.3)  # the batch is being read and scored
        while not done.is_set():
            for path in ("/healthz", "/readyz"):
                start = time.perf_counter()
                assert client.get(path).status_code == 200
                probes.append(time.perf_counter() - start)
            time.sleep(0.05)
    worker.join()
    assert outcome["status"] == 200
    assert outcome["seconds"] > 1.0 and len(probes) >= 4, "the batch was too quick to test anything"
    assert max(probes) < 1.0, f"slowest probe {max(probes):.2f} s while scoring for {outcome['seconds']:.1f} s"


def test_request_past_its_budget_gets_a_typed_error(make_client):
    with make_client(score_budget_seconds=1e-9) as client:
        response = client.post("/v1/score", json={"text": SCAM_AD})
        assert response.status_code == 422
        assert response.json()["error"]["type"] == "scoring_budget_exceeded"
        # The server is unharmed: a generous budget scores again.
    with make_client(score_budget_seconds=30) as client:
        assert client.post("/v1/score", json={"text": SCAM_AD}).status_code == 200
