"""Close each keep-alive connection after a number of requests, so load spreads over the workers.

uvicorn's workers share one listening socket and a connection stays with the
worker that accepted it. Eight clients that connect at once can all land on
one worker, which then does all the work while the other idles, for as long
as the clients keep their connections. Answering every `max_requests`-th
request on a connection with `Connection: close` makes clients reconnect now
and then; a new connection goes to whichever worker is waiting in its event
loop first, which is more often the less loaded one, so the split evens out.
A reconnect costs one TCP handshake (tens of microseconds on a LAN).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ConnectionRecycleMiddleware:
    def __init__(self, app: ASGIApp, max_requests: int, max_tracked: int = 10_000):
        self.app = app
        self.max_requests = max_requests
        self.max_tracked = max_tracked
        self._served: dict[tuple, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_requests <= 0 or not scope.get("client"):
            await self.app(scope, receive, send)
            return
        key = tuple(scope["client"])  # (host, port): one TCP connection
        served = self._served.get(key, 0) + 1
        if served < self.max_requests:
            if len(self._served) >= self.max_tracked:  # connections that closed by themselves
                self._served.clear()
            self._served[key] = served
            await self.app(scope, receive, send)
            return
        self._served.pop(key, None)

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_closing)
