"""CORS for browser extensions and web pages, on every response, errors included.

Starlette's CORSMiddleware sits inside the server-error layer, so a 500 (and
any answer a middleware gives before it, like a 413) leaves without CORS
headers and the browser reports only "Failed to fetch". This middleware is
the outermost layer: allowed origins get `Access-Control-Allow-Origin` on
every answer, a 500 included, and preflights are answered here, with
Private Network Access (`Access-Control-Allow-Private-Network`) for a page
on the public web calling a server on a private address or loopback.

Configure with `lurescan serve --cors-origin ORIGIN` (repeatable) or
`LURESCAN_CORS_ORIGINS` (comma-separated or a JSON list); `*` allows any
origin (no cookies are used, the API key travels in a header).
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response

ANY_ORIGIN = "*"
_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s?#]+$")
ALLOW_METHODS = ("GET", "POST")
MAX_AGE_SECONDS = 600


def check_origin(origin: str) -> str:
    """An origin as browsers send it (scheme://host[:port], no path), or ValueError saying what is wrong."""
    value = origin.strip()
    if value == ANY_ORIGIN:
        return value
    if not _ORIGIN.match(value.lower()):
        raise ValueError(
            f"{origin!r} is not an origin: give scheme://host[:port] with no path or trailing slash, "
            "e.g. chrome-extension://abcdefghijklmnopabcdefghijklmnop or https://board.example"
        )
    return value.lower()


class CorsMiddleware:
    def __init__(self, app: ASGIApp, origins: list[str], allow_headers: list[str], expose_headers: list[str]) -> None:
        self.app = app
        self.any_origin = ANY_ORIGIN in origins
        self.origins = frozenset(o for o in origins if o != ANY_ORIGIN)
        self.allow_headers = ", ".join(allow_headers)
        self.expose_headers = ", ".join(expose_headers)

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin.lower() in self.origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin, headers, scope, receive, send)
            return
        if not self.allows(origin):
            await self.app(scope, receive, send)  # answered, but the browser will not let the page read it
            return
        started = False

        async def send_with_cors(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                out = MutableHeaders(scope=message)
                out["Access-Control-Allow-Origin"] = origin
                out.add_vary_header("Origin")
                out["Access-Control-Expose-Headers"] = self.expose_headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_cors)
        except Exception:
            if not started:  # the server-error layer outside logs it; the page still gets a readable 500
                response = error_response(500, "internal_error", "internal error; the server log has the details")
                await response(scope, receive, send_with_cors)
            raise

    async def _preflight(self, origin: str, headers: Headers, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.allows(origin):
            response = error_response(
                403, "cors_origin_not_allowed", f"origin {origin[:100]!r} is not allowed by this server's CORS setting"
            )
            await response(scope, receive, send)
            return
        method = headers.get("access-control-request-method", "").upper()
        response = error_response(
            405, "method_not_allowed", f"{method} is not allowed cross-origin"
        ) if method not in ALLOW_METHODS else None
        if response is None:
            from starlette.responses import Response

            response = Response(status_code=200)
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = ", ".join(ALLOW_METHODS)
        response.headers["Access-Control-Allow-Headers"] = self.allow_headers
        response.headers["Access-Control-Max-Age"] = str(MAX_AGE_SECONDS)
        response.headers["Vary"] = "Origin"
        if headers.get("access-control-request-private-network", "").lower() == "true":
            response.headers["Access-Control-Allow-Private-Network"] = "true"
        await response(scope, receive, send)
