"""The live model of a worker, swapped atomically on reload.

A reload loads and warms the new bundle beside the old one, then replaces
one reference: requests in flight finish on the scorer they started with,
new ones get the new scorer, and none is dropped. A bad bundle leaves the
old model serving. Each worker also watches the bundle's manifest, so
replacing the bundle directory (bundles are written atomically) reloads
every worker of a multi-worker server, not only the one that got the
admin call or signal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import anyio

from lurescan.model.bundle import MANIFEST_NAME, BundleError, default_bundle_path
from lurescan.model.scoring import Scorer, load_scorer

from .core.metrics import MODEL_RELOADS, set_model_info

log = logging.getLogger("lurescan.serve")

WARMUP_LISTING = {
    "title": "Warm-up",
    "text": "Warm-up listing: sales assistant, Monday to Friday, apply on our website.",
}


@dataclass(frozen=True)
class ReloadResult:
    previous_version: str | None
    model_version: str
    changed: bool


class ModelHolder:
    def __init__(self, bundle_path: Path | None, max_field_chars: int | None = None):
        self.bundle_path = Path(bundle_path) if bundle_path else default_bundle_path()
        self.max_field_chars = max_field_chars  # the longest read text per field (settings.max_field_chars)
        self.scorer: Scorer | None = None
        self._stamp: tuple | None = None
        self._lock = threading.Lock()  # one load at a time; scoring never waits on it

    @property
    def ready(self) -> bool:
        return self.scorer is not None

    def _disk_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.bundle_path / MANIFEST_NAME)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def load(self) -> ReloadResult:
        """Load, verify and warm the bundle, then swap it in (blocking; run in a thread)."""
        with self._lock:
            previous = self.scorer.model_version if self.scorer else None
            stamp = self._disk_stamp()
            try:
                scorer = load_scorer(self.bundle_path)
                scorer.max_field_chars = self.max_field_chars
                scorer.score([WARMUP_LISTING])
            except BundleError:
                MODEL_RELOADS.labels("failed").inc()
                raise
            except Exception as exc:  # loads, but cannot score (e.g. trained with other red-flag rules)
                MODEL_RELOADS.labels("failed").inc()
                raise BundleError(
                    f"{self.bundle_path}: cannot score with this bundle ({type(exc).__name__}: {exc})"
                ) from exc
            self.scorer = scorer  # the atomic swap
            self._stamp = stamp
            set_model_info(scorer.model_version, scorer.bundle.kind)
            MODEL_RELOADS.labels("loaded").inc()
            if previous is not None:
                log.warning("model reloaded: %s -> %s", previous, scorer.model_version)
            return ReloadResult(previous, scorer.model_version, previous != scorer.model_version)

    async def reload(self) -> ReloadResult:
        return await anyio.to_thread.run_sync(self.load)

    def changed_on_disk(self) -> bool:
        stamp = self._disk_stamp()
        return stamp is not None and stamp != self._stamp

    async def watch(self, interval: float) -> None:
        """Reload when the bundle on disk changes (runs for the worker's life)."""
        while True:
            await asyncio.sleep(interval)
            if not self.changed_on_disk():
                continue
            try:
                await self.reload()
            except BundleError as exc:
                # Keep serving the old model; try again only when the bundle changes again.
                self._stamp = self._disk_stamp()
                log.error(
                    "bundle changed but cannot be loaded, still serving %s: %s",
                    self.scorer and self.scorer.model_version,
                    exc,
                )
            except Exception:  # pragma: no cover - never let the watcher die
                log.exception("bundle reload failed")
