"""Request-body size limits that answer 413 in the API's JSON error format.

(Starlette's own RequestBodyLimitMiddleware answers in plain text from inside
the route, past the app's error handlers, so it cannot keep the API's error
contract.) A declared Content-Length over the limit is refused before the
body is read; a chunked body is counted as it arrives and refused as soon
as it passes the limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(
            status_code=413, detail=f"the request body is larger than this endpoint accepts ({limit:,} bytes)"
        )


def _message(limit: int) -> str:
    return f"the request body is larger than this endpoint accepts ({limit:,} bytes)"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, default_limit: int, path_limits: dict[str, int]):
        self.app = app
        self.default_limit = default_limit
        self.path_limits = path_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"], self.default_limit)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await error_response(413, "payload_too_large", _message(limit))(scope, receive, send)
                    return
                break
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)
