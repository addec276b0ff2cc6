"""A deadline for reading each request, in `lurescan serve` itself.

uvicorn times out idle keep-alive connections but not a client that sends its
request slowly: 1,100 connections trickling headers exhausted the file
descriptors and every normal request failed (issue 15; the compose nginx
covers it, a bare `lurescan serve` or the Dockerfile did not). These protocol
classes give every request `request_read_timeout` seconds, counted from the
connection (or the end of the previous response) to the last byte of its
body; past it the connection is closed. Headers and body both count, so a
client cannot hold a connection by sending one byte at a time.

`lurescan serve` passes the class matching uvicorn's parser by import path
(`http=`), so every worker process uses it.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("lurescan.serve")

_TIMEOUT: float | None = None


def _timeout() -> float:
    """The worker's `request_read_timeout` (read once from its settings)."""
    global _TIMEOUT
    if _TIMEOUT is None:
        from .config import get_settings

        _TIMEOUT = float(get_settings().request_read_timeout)
    return _TIMEOUT


class _ReadDeadline:
    """Arms a timer when a request may start; disarms it once the whole request is in."""

    _read_deadline: asyncio.TimerHandle | None = None

    # Listed first among the bases, so these wrap the protocol's own.
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_read_deadline()

    def connection_lost(self, exc) -> None:
        self._disarm_read_deadline()
        super().connection_lost(exc)

    def _arm_read_deadline(self) -> None:
        self._disarm_read_deadline()
        timeout = _timeout()
        if timeout > 0:
            self._read_deadline = self.loop.call_later(timeout, self._read_deadline_expired)

    def _disarm_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_deadline_expired(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            log.info("closing a connection that sent no complete request within %g s", _timeout())
            self.transport.close()


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools absent: uvicorn uses h11
    HttpToolsProtocol = None


if HttpToolsProtocol is not None:

    class ReadDeadlineHttpTools(_ReadDeadline, HttpToolsProtocol):
        def on_message_complete(self) -> None:
            self._disarm_read_deadline()
            super().on_message_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_read_deadline()


class ReadDeadlineH11(_ReadDeadline, H11Protocol):
    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        import h11

        if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED):
            self._disarm_read_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_read_deadline()


def protocol_path() -> str:
    """Import path of the class for the parser uvicorn would pick ("auto")."""
    name = "ReadDeadlineHttpTools" if HttpToolsProtocol is not None else "ReadDeadlineH11"
    return f"{__name__}:{name}"
