"""Token buckets: in-process arithmetic, and one bucket shared through the real Redis."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import pytest
from serve_samples import SCAM_AD

from lurescan.serve.core.ratelimit import MemoryTokenBuckets, RedisTokenBuckets, retry_after_header
from lurescan.serve.core.security import Client

REDIS_URL = os.environ.get("LURESCAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_memory_bucket_refills_at_the_rate():
    buckets = MemoryTokenBuckets()
    client = Client("k", False, rate_per_second=10.0, burst=5)

    async def run():
        assert await buckets.acquire(client, 5) == 0
        wait = await buckets.acquire(client, 2)
        assert 0.1 < wait <= 0.2
        await asyncio.sleep(0.25)
        assert await buckets.acquire(client, 2) == 0

    asyncio.run(run())


def test_retry_after_is_whole_seconds_at_least_one():
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.2) == "3"


@pytest.fixture
def redis_url():
    import redis

    r = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        r.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    prefix = f"lurescan-test-{uuid.uuid4().hex[:10]}:"
    try:
        yield REDIS_URL, prefix
    finally:
        for key in r.scan_iter(match=prefix + "*"):
            r.delete(key)
        r.close()


@pytest.mark.redis
def test_redis_buckets_are_shared_between_limiters(redis_url):
    url, prefix = redis_url
    client = Client("board-a", False, rate_per_second=1.0, burst=4)

    async def run():
        one, two = RedisTokenBuckets(url, prefix, fail_open=False), RedisTokenBuckets(url, prefix, fail_open=False)
        try:
            results = [await (one if i % 2 else two).acquire(client, 1) for i in range(4)]
            assert results == [0, 0, 0, 0]
            assert await one.acquire(client, 1) > 0
            assert await two.acquire(client, 1) > 0
            assert await two.acquire(Client("board-b", False, 1.0, 4), 1) == 0
        finally:
            await one.close()
            await two.close()

    asyncio.run(run())


@pytest.mark.redis
def test_two_replicas_share_one_limit_through_redis(make_client, keys_file, keys, redis_url):
    url, prefix = redis_url
    settings = {
        "api_keys_file": keys_file,
        "redis_url": url,
        "redis_prefix": prefix,
        "rate_limit_per_second": 0.2,
        "rate_limit_burst": 4,
        "max_batch_items": 4,
    }
    headers = {"X-API-Key": keys["board-a"]}
    with make_client(**settings) as replica_a, make_client(**settings) as replica_b:
        codes = [
            (replica_a if i % 2 else replica_b).post("/v1/score", json={"text": SCAM_AD}, headers=headers).status_code
            for i in range(4)
        ]
        assert codes == [200] * 4
        r = replica_a.post("/v1/score", json={"text": SCAM_AD}, headers=headers)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert replica_b.post("/v1/score", json={"text": SCAM_AD}, headers=headers).status_code == 429
        other = {"X-API-Key": keys["board-b"]}
        assert replica_b.post("/v1/score", json={"text": SCAM_AD}, headers=other).status_code == 200


def test_unreachable_redis_fails_open_or_closed(make_client):
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with make_client(redis_url=dead) as client:
        start = time.monotonic()
        assert client.post("/v1/score", json={"text": SCAM_AD}).status_code == 200
        assert time.monotonic() - start < 5
    with make_client(redis_url=dead, rate_limit_fail_open=False) as client:
        r = client.post("/v1/score", json={"text": SCAM_AD})
        assert r.status_code == 503 and r.json()["error"]["type"] == "rate_limiter_unavailable"
