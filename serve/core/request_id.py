"""A request id on every response, and the rate limit's state in headers.

`X-Request-ID`: the caller's own (letters, digits, `.`, `_`, `-`, `:`; at
most 128 characters) or a new random one, on every answer including errors
from middleware, so a board can quote it to the operator, whose log lines
carry it. `X-RateLimit-Limit/Remaining/Reset`: the key's bucket size, the
tokens left after this request and the seconds until the bucket is full
again, on every answer to a request that was charged (a 429 too, with
`Retry-After`).
"""

from __future__ import annotations

import re
import uuid

from starlette.types import Message, Receive, Scope, Send

from .asgi import HttpMiddleware

_VALID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def record_rate_limit(scope: Scope, limit: int, remaining: float, reset_seconds: float) -> None:
    """Called where a request is charged; the middleware turns it into headers."""
    scope.setdefault("state", {})["rate_limit"] = (limit, remaining, reset_seconds)


class RequestIdMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-request-id"), None)
        request_id = given if given and _VALID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                charged = state.get("rate_limit")
                if charged is not None:
                    limit, remaining, reset = charged
                    headers += [
                        (b"x-ratelimit-limit", str(limit).encode()),
                        (b"x-ratelimit-remaining", str(max(0, int(remaining))).encode()),
                        (b"x-ratelimit-reset", str(max(0, int(-(-reset // 1)))).encode()),
                    ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
