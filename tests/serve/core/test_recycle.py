"""With several workers, keep-alive connections are closed now and then, so load spreads over the workers."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lurescan.serve.core import recycle
from lurescan.serve.core.recycle import ConnectionRecycleMiddleware


def tiny_app(**options) -> TestClient:
    app = FastAPI()

    @app.get("/ok")
    async def ok() -> dict:
        return {"ok": True}

    app.add_middleware(ConnectionRecycleMiddleware, **options)
    # TestClient sends every request from one client address: one connection, as far as the server can tell.
    return TestClient(app)


def closes(client: TestClient, n: int) -> list[bool]:
    return [client.get("/ok").headers.get("connection") == "close" for _ in range(n)]


def test_every_nth_request_of_a_connection_closes_it():
    with tiny_app(max_requests=3, max_seconds=0, jitter=False) as client:
        assert closes(client, 7) == [False, False, True, False, False, True, False]


def test_an_error_answer_never_closes_the_next_success_does():
    # A 413 may be sent before the body is read; closing then would reset the socket and lose it.
    with tiny_app(max_requests=2, max_seconds=0, jitter=False) as client:
        assert closes(client, 1) == [False]
        assert client.get("/missing").headers.get("connection") != "close"  # due, but a 404
        assert client.get("/missing").headers.get("connection") != "close"
        assert closes(client, 2) == [True, False]


def test_a_connection_open_long_enough_is_closed(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(recycle, "monotonic", lambda: clock[0])
    with tiny_app(max_requests=0, max_seconds=2, jitter=False) as client:
        assert closes(client, 1) == [False]
        clock[0] += 1.5
        assert closes(client, 1) == [False]
        clock[0] += 1.0
        assert closes(client, 2) == [True, False]  # then a new connection's clock starts


def test_limits_are_spread_so_clients_do_not_reconnect_together():
    gaps = []
    for _ in range(20):
        with tiny_app(max_requests=10, max_seconds=0) as client:
            answers = closes(client, 40)
        first = answers.index(True) + 1
        assert 5 <= first <= 15
        gaps.append(first)
    assert len(set(gaps)) > 1


def test_the_api_recycles_only_with_several_workers(make_client):
    with make_client(workers=2, recycle_connections_after=3, recycle_connections_seconds=0) as client:
        answers = [client.get("/healthz") for _ in range(12)]
        assert all(a.status_code == 200 for a in answers)
        assert sum(a.headers.get("connection") == "close" for a in answers) >= 2  # limits drawn from 2..4
        errors = [client.post("/v1/score", json={}) for _ in range(6)]
        assert all(e.status_code == 422 and e.headers.get("connection") != "close" for e in errors)
    for overrides in (
        {"workers": 1, "recycle_connections_after": 2, "recycle_connections_seconds": 0.001},
        {"workers": 2, "recycle_connections_after": 0, "recycle_connections_seconds": 0},
    ):
        with make_client(**overrides) as client:
            answers = [client.get("/healthz") for _ in range(5)]
            assert all(a.status_code == 200 and a.headers.get("connection") != "close" for a in answers)
