"""/docs (Swagger UI) and /redoc served from a pip-installed package, so they work offline.

FastAPI's own pages load their scripts from a CDN: on a server without
internet access, or behind a strict proxy, they stay blank. The assets come
from the `fastapi-offline` package (Swagger UI and ReDoc bundles) and are
mounted at ASSETS_URL.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

ASSETS_URL = "/docs-assets"


def assets_dir() -> Path:
    """The Swagger UI and ReDoc files shipped by fastapi-offline."""
    return Path(str(resources.files("fastapi_offline").joinpath("static")))


def router(title: str, openapi_url: str = "/openapi.json") -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    def urls(request: Request) -> tuple[str, str]:
        """The schema's URL and the assets' base, under the proxy's root path if there is one."""
        root = request.scope.get("root_path", "")
        return f"{root}{openapi_url}", f"{root}{ASSETS_URL}"

    @pages.get("/docs")
    async def swagger(request: Request) -> HTMLResponse:
        schema, assets = urls(request)
        return get_swagger_ui_html(
            openapi_url=schema,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
        )

    @pages.get("/redoc")
    async def redoc(request: Request) -> HTMLResponse:
        schema, assets = urls(request)
        return get_redoc_html(
            openapi_url=schema, title=f"{title} - ReDoc", redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png", with_google_fonts=False,
        )

    return pages
