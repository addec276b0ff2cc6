"""API keys: who is calling, checked against hashed keys.

Keys are random 256-bit tokens (`lurescan keys create`), so a plain sha256 is
enough to store them: nobody can guess a key from its hash, and a dict lookup
by hash leaks nothing useful through timing. Open mode (no keys) is for local
use: it answers loopback clients only, whatever address the server binds.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from .config import ApiKeyEntry, is_loopback
from .errors import ApiError

KEY_PREFIX = "lsk_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> str:
    """A new API key: a recognisable prefix and 256 random bits."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Client:
    """The caller of a request, as rate limits and storage see it."""

    name: str
    admin: bool
    rate_per_second: float
    burst: int
    threshold: float | None = None  # the key's default decision threshold (None: the model's)


class KeyStore:
    def __init__(self, keys: list[ApiKeyEntry], open_mode: bool, rate_per_second: float, burst: int):
        self.open_mode = open_mode
        self._rate = rate_per_second
        self._burst = burst
        self.replace(keys)

    def replace(self, keys: list[ApiKeyEntry]) -> None:
        """Put these keys in force, at once (a removed key is refused from the next request on)."""
        self._by_hash = {
            k.sha256: Client(k.name, k.admin, k.rate_per_second or self._rate, k.burst or self._burst, k.threshold)
            for k in keys
        }

    def __len__(self) -> int:
        return len(self._by_hash)

    def authenticate(self, presented: str | None, client_host: str | None) -> Client:
        if presented:
            client = self._by_hash.get(hash_key(presented.strip()))
            if client is None:
                raise ApiError(
                    401, "invalid_api_key", "the API key is not valid", headers={"WWW-Authenticate": "ApiKey"}
                )
            return client
        if self.open_mode:
            if client_host is None or not is_loopback(client_host):
                raise ApiError(
                    401,
                    "missing_api_key",
                    "open mode serves this machine only; send an X-API-Key header",
                    headers={"WWW-Authenticate": "ApiKey"},
                )
            # One bucket for the machine: every 127.x.y.z is the same caller.
            return Client("open:loopback", True, self._rate, self._burst)
        raise ApiError(
            401, "missing_api_key", "send your API key in the X-API-Key header", headers={"WWW-Authenticate": "ApiKey"}
        )
