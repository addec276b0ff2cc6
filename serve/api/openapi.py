"""This server's limits, declared in its OpenAPI schema, not only in prose.

The batch limit, the note length and the field cap are settings, so they
cannot be static in the pydantic models; the generated schema gets them
here (`maxItems` on `listings`, `maxLength` on `note`), and every response
says it carries `X-Request-ID`. A client generator or a validator in front
of the API then knows what this server accepts.
"""

from __future__ import annotations

from fastapi import FastAPI

from ..core.config import Settings

_REQUEST_ID = {"description": "This request's id (yours if you sent a safe X-Request-ID).", "schema": {"type": "string"}}


def declare_limits(app: FastAPI, settings: Settings) -> None:
    base = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = base()
        components = schema.get("components", {}).get("schemas", {})
        listings = components.get("BatchRequest", {}).get("properties", {}).get("listings")
        if listings is not None:
            listings["maxItems"] = settings.max_batch_items
        note = components.get("FeedbackRequest", {}).get("properties", {}).get("note")
        if note is not None:
            for option in note.get("anyOf", [note]):
                if option.get("type") == "string":
                    option["maxLength"] = settings.max_note_chars
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for response in operation.get("responses", {}).values():
                    response.setdefault("headers", {}).setdefault("X-Request-ID", _REQUEST_ID)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
