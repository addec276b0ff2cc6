"""Per-key rate limits: token buckets, in-process or shared through Redis.

Each key has a bucket of `burst` tokens refilled at `rate_per_second`; a
request costs one token per listing. In-process buckets are per worker
process (N workers allow up to N times the rate); with `LURESCAN_REDIS_URL`
every worker and replica draws from one bucket per key, updated atomically
by a Lua script on Redis' own clock.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Protocol

from .metrics import RATE_LIMIT_BACKEND_ERRORS
from .security import Client

log = logging.getLogger("lurescan.serve")


class RateLimiter(Protocol):
    async def acquire(self, client: Client, cost: int) -> float:
        """Take `cost` tokens; return 0 if allowed, else the seconds to wait."""

    async def take(self, client: Client, cost: int) -> tuple[float, float]:
        """As `acquire`, and the tokens left in the bucket afterwards (for X-RateLimit-Remaining)."""

    async def close(self) -> None: ...


class MemoryTokenBuckets:
    """Token buckets in this process (the event loop serialises access)."""

    MAX_BUCKETS = 100_000

    def __init__(self):
        self._buckets: dict[str, tuple[float, float]] = {}

    async def acquire(self, client: Client, cost: int) -> float:
        return (await self.take(client, cost))[0]

    async def take(self, client: Client, cost: int) -> tuple[float, float]:
        now = time.monotonic()
        tokens, stamp = self._buckets.get(client.name, (float(client.burst), now))
        tokens = min(float(client.burst), tokens + (now - stamp) * client.rate_per_second)
        if tokens >= cost:
            self._store(client.name, tokens - cost, now)
            return 0.0, tokens - cost
        self._store(client.name, tokens, now)
        return (cost - tokens) / client.rate_per_second, tokens

    def _store(self, name: str, tokens: float, now: float) -> None:
        if len(self._buckets) >= self.MAX_BUCKETS and name not in self._buckets:
            # Many one-off callers (open mode by address): forget the oldest half.
            for key in sorted(self._buckets, key=lambda k: self._buckets[k][1])[: self.MAX_BUCKETS // 2]:
                del self._buckets[key]
        self._buckets[name] = (tokens, now)

    async def close(self) -> None:
        pass


_TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {tostring(wait), tostring(tokens)}
"""


class RedisTokenBuckets:
    """Token buckets shared by every worker and replica through Redis."""

    def __init__(self, url: str, prefix: str, fail_open: bool):
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._redis.register_script(_TOKEN_BUCKET_LUA)
        self._prefix = prefix
        self._fail_open = fail_open
        self._last_warning = 0.0

    async def acquire(self, client: Client, cost: int) -> float:
        return (await self.take(client, cost))[0]

    async def take(self, client: Client, cost: int) -> tuple[float, float]:
        try:
            wait, tokens = await self._script(
                keys=[self._prefix + client.name], args=[client.rate_per_second, client.burst, cost]
            )
        except Exception as exc:  # redis.RedisError, OSError, timeouts
            RATE_LIMIT_BACKEND_ERRORS.inc()
            now = time.monotonic()
            if now - self._last_warning > 30:
                self._last_warning = now
                log.warning(
                    "rate limiter: Redis unreachable (%s); %s",
                    exc,
                    "serving without limits" if self._fail_open else "refusing requests",
                )
            if self._fail_open:
                return 0.0, float(client.burst)
            from .errors import ApiError

            raise ApiError(
                503,
                "rate_limiter_unavailable",
                "the rate limiter is unavailable; retry shortly",
                headers={"Retry-After": "1"},
            ) from None
        return float(wait), float(tokens)

    async def close(self) -> None:
        await self._redis.aclose()


def build_rate_limiter(redis_url: str | None, prefix: str, fail_open: bool) -> RateLimiter:
    if redis_url:
        return RedisTokenBuckets(redis_url, prefix, fail_open)
    return MemoryTokenBuckets()


def retry_after_header(wait_seconds: float) -> str:
    """Whole seconds, at least 1 (Retry-After takes integers)."""
    return str(max(1, math.ceil(wait_seconds)))
