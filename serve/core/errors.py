"""Errors as JSON with a stable `error.type`, never a stack trace.

Every error a client can cause has a type an integrator can switch on:

    invalid_json            400  the body is not JSON
    unsupported_media_type  415  the body is not sent as application/json
    validation_error        422  a field is missing, unknown or of the wrong type
    empty_listing           422  a listing has no text in any field
    scoring_budget_exceeded 422  scoring the listing took longer than the server allows
    missing_api_key         401  no X-API-Key header
    invalid_api_key         401  a key the server does not know
    admin_required          403  the endpoint needs an admin key
    storage_disabled        403  `store: true` while the server stores no texts
    not_found               404  no such endpoint (or no such stored listing)
    method_not_allowed      405
    idempotency_conflict    409  an Idempotency-Key reused with a different feedback
    payload_too_large       413  the body is larger than allowed
    too_many_items          413  a batch has more listings than allowed
    rate_limited            429  slow down; Retry-After says for how long
    model_not_ready         503  no model is loaded
    rate_limiter_unavailable 503  Redis unreachable and the server fails closed
    invalid_bundle          422  an admin reload found an unusable bundle
    invalid_keys_file       422  an admin reload found an unusable API keys file
    internal_error          500  a bug; the message carries no details, the log does

Body: `{"error": {"type", "message", "details"?, "omitted"?}}`: details lists the first
`max_error_details` problems, `omitted` counts the rest.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("lurescan.serve")

EMPTY_LISTING = "empty_listing"


class ApiError(Exception):
    """An error a client caused (or may retry), answered as JSON."""

    def __init__(
        self, status: int, type: str, message: str, headers: dict[str, str] | None = None, details: Any = None
    ):
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.headers = headers
        self.details = details


def error_response(
    status: int,
    type: str,
    message: str,
    headers: dict[str, str] | None = None,
    details: Any = None,
    omitted: int = 0,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type, "message": message}
    if details is not None:
        body["details"] = details
    if omitted:
        body["omitted"] = omitted  # problems beyond the first `max_error_details`, counted only
    return JSONResponse({"error": body}, status_code=status, headers=headers)


# What the OpenAPI page shows for error responses.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "examples": ["validation_error"]},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
                "omitted": {"type": "integer", "description": "Problems found beyond those listed in details."},
            },
            "required": ["type", "message"],
        }
    },
}


_RATE_HEADERS = {
    "X-RateLimit-Limit": {"description": "The key's bucket size (listings).", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Listings left in the bucket.", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Seconds until the bucket is full again.", "schema": {"type": "integer"}},
}


def error_responses(*statuses: int) -> dict[int, dict]:
    out = {
        status: {"description": "Error (see error.type)", "content": {"application/json": {"schema": ERROR_SCHEMA}}}
        for status in statuses
    }
    if 429 in out:
        out[429]["description"] = "rate_limited: wait Retry-After seconds"
        out[429]["headers"] = {
            "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}},
            **_RATE_HEADERS,
        }
    return out


def _clean_errors(errors) -> list[dict]:
    """Pydantic errors without the offending input (it may be large or private)."""
    out = []
    for err in errors:
        loc = [p for p in err.get("loc", ()) if p != "body"]
        out.append({"loc": loc, "msg": err.get("msg", ""), "type": err.get("type", "")})
    return out


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    return not media or media == "application/json" or media.endswith("+json")


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.type, exc.message, exc.headers, exc.details)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        err = next(e for e in errors if e.get("type") == "json_invalid")
        detail = (err.get("ctx") or {}).get("error", "")
        position = err.get("loc", (None, None))[-1]
        return error_response(400, "invalid_json", f"the body is not valid JSON ({detail} at character {position})")
    if not _is_json(request):
        return error_response(
            415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json"
        )
    details = _clean_errors(errors)
    limit = _detail_limit(request)
    omitted = max(len(details) - limit, 0)
    if errors and all(e.get("type") == EMPTY_LISTING for e in errors):
        where = ", ".join(".".join(map(str, d["loc"])) or "body" for d in details[:limit])
        where += f" and {omitted} more" if omitted else ""
        return error_response(
            422,
            EMPTY_LISTING,
            f"listing has no text ({where}): give at least one of title, description, text, html, ...",
            details=details[:limit],
            omitted=omitted,
        )
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(map(str, first["loc"])) or "body"
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return error_response(
        422, "validation_error", f"{where}: {first['msg']}{more}", details=details[:limit], omitted=omitted
    )


def _detail_limit(request: Request) -> int:
    """How many problems an error body lists (the rest are counted in `omitted`)."""
    state = getattr(request.app.state, "lurescan", None)
    return state.settings.max_error_details if state is not None else 20


_HTTP_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    type_ = _HTTP_TYPES.get(exc.status_code, "http_error")
    if exc.status_code == 413:
        type_, message = "payload_too_large", str(exc.detail)
    elif exc.status_code == 400:  # FastAPI could not parse the body at all (e.g. JSON nested too deeply)
        type_, message = "invalid_json", "the body could not be parsed as JSON"
    elif exc.status_code == 404:
        message = f"no endpoint at {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, type_, message, headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    # Close the connection, and say so: the client must not reuse a connection in an unknown state.
    return error_response(
        500, "internal_error", "internal error; the server log has the details", headers={"Connection": "close"}
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
