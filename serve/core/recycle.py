"""Close keep-alive connections now and then, so load spreads over the workers.

uvicorn's workers share one listening socket and a connection stays with the
worker that accepted it. Eight clients that connect at once can all land on
one worker, which then does all the work while the other idles, for as long
as the clients keep their connections. Answering with `Connection: close`
once a connection has carried `max_requests` requests or been open
`max_seconds` (whichever comes first; the second matters for slow batch
calls) makes clients reconnect now and then, and each new connection goes to
whichever worker accepts first, so no split lasts. Each connection's limits
are drawn between half and one and a half times the settings, so clients
that connected together do not all reconnect together. A reconnect costs one TCP
handshake (tens of microseconds on a LAN). Proxies do the same for the same
reason (Envoy's max_requests_per_connection and max_connection_duration).
"""

from __future__ import annotations

import random
from time import monotonic

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ConnectionRecycleMiddleware:
    def __init__(
        self, app: ASGIApp, max_requests: int, max_seconds: float, max_tracked: int = 10_000, jitter: bool = True
    ):
        self.app = app
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.max_tracked = max_tracked
        self._spread = random.Random().uniform if jitter else (lambda low, high: 1.0)
        # (host, port) of a connection -> [requests so far, request limit, deadline]
        self._seen: dict[tuple, list] = {}

    def _last_request(self, connection: tuple) -> bool:
        now = monotonic()
        state = self._seen.get(connection)
        if state is None:
            if len(self._seen) >= self.max_tracked:  # connections that closed by themselves
                self._seen.clear()
            limit = round(self.max_requests * self._spread(0.5, 1.5)) if self.max_requests > 0 else 0
            deadline = now + self.max_seconds * self._spread(0.5, 1.5) if self.max_seconds > 0 else None
            state = self._seen[connection] = [0, max(limit, 1) if limit else 0, deadline]
        state[0] += 1
        return bool((state[1] and state[0] >= state[1]) or (state[2] is not None and now >= state[2]))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("client"):
            await self.app(scope, receive, send)
            return
        connection = tuple(scope["client"])
        if not self._last_request(connection):
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            # Only after a success: an error may be answered before the body was read (413),
            # and closing a socket with unread data resets it, losing the answer. The next
            # request on this connection is due again.
            if message["type"] == "http.response.start" and message["status"] < 400:
                self._seen.pop(connection, None)
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_closing)
