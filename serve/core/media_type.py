"""A body must be sent as JSON: anything else is 415 before it is read.

Checked up front, so a form post, a text/plain body (the kind a page can
send cross-origin without a CORS preflight) or a body without any content
type is refused with `unsupported_media_type`, instead of surfacing later as
a validation error about missing fields. A POST without a body (an admin
reload) needs no content type.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import error_response

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class JsonBodyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _BODY_METHODS:
            headers = Headers(scope=scope)
            content_type = headers.get("content-type")
            has_body = headers.get("content-length", "0").strip() not in ("", "0") or "transfer-encoding" in headers
            if (content_type is None and has_body) or (content_type is not None and not is_json_media_type(content_type)):
                sent = "no Content-Type" if content_type is None else f"Content-Type {content_type[:80]!r}"
                response = error_response(
                    415, "unsupported_media_type", f"send the body as JSON with Content-Type: application/json ({sent} given)"
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
