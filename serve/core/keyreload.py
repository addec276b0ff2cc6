"""API keys follow the keys file without a restart, so a key can be revoked.

A key removed from keys.json kept working after an admin reload and SIGHUP
until the server restarted (issue 15). Now the admin reload and SIGHUP read
the keys again, and each worker polls the file (every `reload_poll_seconds`,
like the bundle), so every worker of a multi-worker server follows it. A
file that cannot be read or is invalid is refused and the keys in force
stay, with an error in the log: a typo must not lock every client out.
"""

from __future__ import annotations

import asyncio
import logging
import os

from .config import Settings
from .security import KeyStore

log = logging.getLogger("lurescan.serve")


class KeysReloader:
    def __init__(self, settings: Settings, keys: KeyStore):
        self.settings = settings
        self.keys = keys
        self._stamp = self._disk_stamp()

    def _disk_stamp(self) -> tuple | None:
        path = self.settings.api_keys_file
        if path is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return ("missing",)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def reload(self) -> int:
        """Read the keys again and put them in force; returns how many. ValueError: the old keys stay."""
        stamp = self._disk_stamp()
        entries = self.settings.load_api_keys()
        self.keys.replace(entries)
        self._stamp = stamp
        return len(entries)

    async def watch(self, interval: float) -> None:
        """Reload when the keys file changes (runs for the worker's life)."""
        while True:
            await asyncio.sleep(interval)
            stamp = self._disk_stamp()
            if stamp == self._stamp:
                continue
            try:
                count = self.reload()
                log.info("API keys reloaded from %s: %d key(s)", self.settings.api_keys_file, count)
            except ValueError as exc:
                self._stamp = stamp  # try again when the file changes again
                log.error("API keys file changed but cannot be used, keeping the keys in force: %s", exc)
            except Exception:  # pragma: no cover - never let the watcher die
                log.exception("API keys reload failed")
