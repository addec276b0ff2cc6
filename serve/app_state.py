"""What a running API process holds: settings, keys, limiter, model, database."""

from __future__ import annotations

from dataclasses import dataclass

from .batching import CoalescingScorer
from .core.config import Settings
from .core.keyreload import KeysReloader
from .core.ratelimit import RateLimiter
from .core.security import KeyStore
from .db import Database
from .model_holder import ModelHolder


@dataclass
class AppState:
    settings: Settings
    keys: KeyStore
    limiter: RateLimiter
    holder: ModelHolder
    scoring: CoalescingScorer
    db: Database
    keys_reloader: KeysReloader | None = None  # set by create_app: keys follow the keys file
