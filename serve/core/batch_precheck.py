"""The batch item limit, checked on the raw body before any validation.

Validating a batch builds a model per item and an error per bad item: 5
million `{}` (15 MB, under the body limit) took a worker to 7.2 GB and
answered with a 573 MB error body before the 256-item limit was looked at
(issue 15). This middleware counts the batch's objects on the raw bytes
first: string contents are blanked with one linear regular expression and
the `{` left are counted, one per listing plus the body itself (listing
fields hold no objects, so a valid batch has no others), and the `,` left
bound the JSON values of any kind (a listing has at most a few dozen
fields). Over either limit the request is answered 413 `too_many_items` at
once; under them the count goes to the route (`request.state`), which
charges the rate limit for what was asked before validation starts, and
validation has at most `max_items * VALUES_PER_ITEM` values to report on.

A refused batch is charged what the largest allowed batch costs: it asked
for more than that, and charging all of it could lock a key out for days.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .body_limit import BodyTooLarge
from .errors import ApiError, error_response

# A JSON string, escapes included (the unrolled form: linear, no nested alternation).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# JSON values a batch may hold per allowed listing (a listing is one flat object of a few dozen fields).
VALUES_PER_ITEM = 64


def count_structure(body: bytes) -> tuple[int, int]:
    """(objects, values) of a JSON document, outside strings: the `{` and `,` + 1; linear in its size."""
    if b'"' in body:
        body = _JSON_STRING.sub(b'""', body)
    return body.count(b"{"), body.count(b",") + 1


class BatchPrecheckMiddleware:
    """413 `too_many_items` for a batch over the limit, before FastAPI parses it."""

    def __init__(self, app: ASGIApp, path: str, max_items: int):
        self.app = app
        self.path = path
        self.max_items = max_items

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except BodyTooLarge as exc:
            await error_response(413, "payload_too_large", str(exc.detail))(scope, receive, send)
            return
        body = b"".join(chunks)
        objects, values = count_structure(body)
        items = max(objects - 1, 0)
        scope.setdefault("state", {})["batch_items"] = min(items, self.max_items)
        if items > self.max_items or values > self.max_items * VALUES_PER_ITEM:
            try:
                await self._charge_refused(scope)
            except ApiError as exc:
                await error_response(exc.status, exc.type, exc.message, exc.headers)(scope, receive, send)
                return
            await error_response(
                413,
                "too_many_items",
                f"a batch holds at most {self.max_items} listings; this one has {items:,}"
                if items > self.max_items
                else f"a batch holds at most {self.max_items} listings of flat fields; this body has {values:,} JSON values",
                details=[{"loc": ["listings"], "msg": f"at most {self.max_items} items", "type": "too_many_items"}],
            )(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _charge_refused(self, scope: Scope) -> None:
        """Authenticate the caller and take the largest batch's tokens (ApiError: 401 or 429)."""
        from ..api.deps import API_KEY_HEADER, charge

        state = scope["app"].state.lurescan
        header = API_KEY_HEADER.lower().encode("latin-1")
        key = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == header), None)
        client = scope.get("client")
        caller = state.keys.authenticate(key, client[0] if client else None)
        await charge(state, caller, self.max_items, scope)

