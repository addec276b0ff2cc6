"""Every setting of the scoring API, in one place.

Values come from environment variables prefixed `LURESCAN_` (e.g.
`LURESCAN_DATABASE_URL`), then a `.env` file in the working directory, then
the defaults below. Lists accept JSON (`["a","b"]`) or comma-separated text.
`lurescan serve` passes its options on through the same variables, so every
uvicorn worker sees one configuration.
"""

from __future__ import annotations

import ipaddress
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "LURESCAN_"


class ApiKeyEntry(BaseModel):
    """One API key, stored as the sha256 of the key; the key itself is never kept."""

    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.@-]+$",
        description="Who holds the key (shown in logs and metrics).",
    )
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex sha256 of the key.")
    admin: bool = Field(default=False, description="May call /v1/admin/* (bundle reload).")
    rate_per_second: float | None = Field(
        default=None, gt=0, description="Listings per second for this key (default: rate_limit_per_second)."
    )
    burst: int | None = Field(default=None, gt=0, description="Bucket size for this key (default: rate_limit_burst).")
    threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description=(
            "This key's default decision threshold (a board with another base rate of scams); a request's own "
            "`threshold` still wins. Default: the model's."
        ),
    )


def _split_list(value: object) -> object:
    """Accept JSON lists and comma-separated strings for list settings."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Configuration of the scoring API (environment `LURESCAN_*`, `.env`)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # The model.
    bundle_path: Path | None = Field(default=None, description="Bundle directory; unset = the packaged default model.")
    reload_poll_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How often each worker checks the bundle's manifest for a new bundle (0 = never; reload by SIGHUP or /v1/admin/reload).",
    )
    coalesce_max_listings: int = Field(
        default=64,
        ge=1,
        description="Concurrent single requests scored together in one model call, at most this many listings.",
    )
    heavy_min_ms: float = Field(
        default=100.0,
        ge=0,
        description="Requests expected to take longer than this (a 50,000-character listing, a large page or batch) are scored one at a time in their own worker thread, beside the queue of shorter ones, so an ordinary listing never waits for them to finish (0 = every request).",
    )
    inline_max_ms: float = Field(
        default=200.0,
        ge=0,
        description="Model calls expected to take at most this long run on the event loop: no thread hop, and a busy worker leaves new connections to an idle one. Longer ones run in a worker thread, so probes are still answered.",
    )

    # Where and how the server runs (`lurescan serve`).
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    worker_healthcheck_timeout: int = Field(
        default=60,
        ge=1,
        description="Seconds a new worker may take to load the model before uvicorn gives up on it (also its health-ping timeout).",
    )
    recycle_connections_after: int = Field(
        default=100,
        ge=0,
        description="With several workers, close a keep-alive connection after this many requests (0 = never), so clients that connected all at once do not stay on one worker.",
    )
    recycle_connections_seconds: float = Field(
        default=2.0,
        ge=0,
        description="With several workers, also close a keep-alive connection this many seconds after its first request (0 = never).",
    )
    request_read_timeout: float = Field(
        default=20.0,
        ge=0,
        description="Seconds a client has to send a whole request (headers and body), from connecting or from the previous response; slower connections are closed (0 = no limit).",
    )
    max_connections: int | None = Field(
        default=2048,
        ge=1,
        description="Concurrent connections per worker; beyond it new ones get 503 at once (None = no limit).",
    )
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For/-Proto are trusted (e.g. 127.0.0.1 behind the compose nginx); empty = trust none, the client is the connection's peer.",
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    access_log: bool = False
    metrics_dir: Path | None = Field(
        default=None, description="Prometheus multiprocess directory (set by `lurescan serve` when workers > 1)."
    )

    # Who may call.
    api_keys_file: Path | None = Field(
        default=None, description='JSON file {"keys": [{"name", "sha256", "admin"?, "rate_per_second"?, "burst"?}]}.'
    )
    api_keys: list[ApiKeyEntry] = Field(
        default_factory=list, description="Keys as a JSON list of the same objects (environment)."
    )
    open_mode: bool | None = Field(
        default=None,
        description="Serve without keys, to loopback clients only. Unset = on when bound to loopback with no keys configured.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed by CORS (scheme://host[:port]), e.g. chrome-extension://<id>; * for any. "
        "`lurescan serve --cors-origin ORIGIN` (repeatable) sets it too.",
    )

    strict_fields: bool = Field(
        default=False,
        description="Refuse listings with unknown fields (422 extra_forbidden); off: they are ignored and named in the result's warnings.",
    )
    metrics_public: bool = Field(
        default=False,
        description="Serve /metrics without a key (for a scraper on a private network); otherwise it needs an admin key.",
    )

    # Limits.
    max_body_bytes: int = Field(default=1_000_000, ge=1024, description="Largest body of /v1/score and /v1/feedback.")
    max_batch_body_bytes: int = Field(default=16_000_000, ge=1024, description="Largest body of /v1/score/batch.")
    max_batch_items: int = Field(default=256, ge=1, description="Most listings in one batch.")
    max_field_chars: int = Field(
        default=50_000,
        ge=100,
        description="Longest read text per field (for html, the visible text, not the markup); longer ones are read on head and tail and the result says content_dropped.",
    )
    max_note_chars: int = Field(default=2_000, ge=0, description="Longest feedback note.")
    max_error_details: int = Field(
        default=20, ge=1, description="Problems listed in an error body; the rest are counted in error.omitted."
    )
    score_budget_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Seconds of scoring one listing may take before the request is answered 422 scoring_budget_exceeded (0 = unlimited).",
    )

    # Rate limits (token bucket per key; cost = listings in the request).
    rate_limit_enabled: bool = True
    rate_limit_per_second: float = Field(default=50.0, gt=0, description="Listings per second per key, sustained.")
    rate_limit_burst: int = Field(
        default=1_000, ge=1, description="Listings a key may send at once before the sustained rate applies."
    )
    rate_limit_bytes_per_token: int = Field(
        default=50_000,
        ge=0,
        description="A request costs at least one token per this many bytes of body (a batch at most what a full batch costs; 0 = count listings only).",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://... to share rate limits between workers and replicas; unset = in-process buckets (per worker).",
    )
    redis_prefix: str = "lurescan:ratelimit:"
    rate_limit_fail_open: bool = Field(
        default=True, description="If Redis is unreachable, serve without limits (True) or answer 503 (False)."
    )

    # Storage.
    database_url: str = Field(
        default="sqlite:///lurescan.sqlite3",
        description="SQLAlchemy URL: a SQLite file, or postgresql+psycopg://user@host/db.",
    )
    store_texts: bool = Field(
        default=True,
        description="Keep listing text with feedback and on `store: true`; False keeps verdicts and scores only.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        from .cors import check_origin

        origins = _split_list(value)
        return [check_origin(o) for o in origins] if isinstance(origins, list) else origins

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _keys(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else []
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.rate_limit_burst < self.max_batch_items:
            raise ValueError(
                f"rate_limit_burst ({self.rate_limit_burst}) must be at least max_batch_items ({self.max_batch_items}), "
                "or a full batch could never pass the rate limit"
            )
        if self.open_mode and not is_loopback(self.host):
            raise ValueError(
                f"open mode is for local use only: bind to 127.0.0.1 (not {self.host}) or configure API keys"
            )
        return self

    def load_api_keys(self) -> list[ApiKeyEntry]:
        """Keys from the environment and the keys file, refusing a broken file with a clear message."""
        keys = list(self.api_keys)
        if self.api_keys_file is not None:
            keys.extend(read_keys_file(self.api_keys_file))
        names = [k.name for k in keys]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"API key names must be unique; repeated: {', '.join(duplicates)}")
        for key in keys:
            if key.burst is not None and key.burst < self.max_batch_items:
                raise ValueError(
                    f"API key {key.name!r}: burst {key.burst} is below max_batch_items ({self.max_batch_items})"
                )
        return keys

    def effective_open_mode(self, keys: list[ApiKeyEntry]) -> bool:
        if self.open_mode is not None:
            return self.open_mode
        return is_loopback(self.host) and not keys


class KeysFile(BaseModel):
    keys: list[ApiKeyEntry] = Field(default_factory=list)


def read_keys_file(path: Path) -> list[ApiKeyEntry]:
    from pydantic import ValidationError

    if not path.is_file():
        raise ValueError(f"{path}: API keys file not found")
    try:
        return KeysFile.model_validate_json(path.read_bytes()).keys
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{path}: not a valid API keys file ({where}: {first['msg']})") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
