"""One OpenAPI document for the whole platform: the gateway's own routes merged with each service's /openapi.json
(fetched with a short timeout, cached briefly, a service that is down is listed and skipped), shown by Swagger UI at
`/docs` and ReDoc at `/redoc`, both served from the gateway itself (a closed network has no CDN)."""

import asyncio
import copy
import functools
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from gateway.config import SERVICES
from gateway.runtime import runtime

FETCH_TIMEOUT = 2.0
SCHEMA_REF = "#/components/schemas/"

router = APIRouter()


class OpenApiCache:
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._document: dict[str, Any] | None = None
        self._built_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self, app: FastAPI, http: httpx.AsyncClient, urls: dict[str, str]) -> dict[str, Any]:
        async with self._lock:
            if self._document is None or time.monotonic() - self._built_at > self.ttl:
                specs = await asyncio.gather(*(_fetch(http, url) for url in urls.values()))
                self._document = merge(app.openapi(), dict(zip(urls, specs, strict=True)))
                self._built_at = time.monotonic()
            return self._document


async def _fetch(http: httpx.AsyncClient, base_url: str) -> dict[str, Any] | None:
    try:
        answer = await http.get(f"{base_url}/openapi.json", timeout=FETCH_TIMEOUT)
        answer.raise_for_status()
        document = answer.json()
        return document if isinstance(document, dict) else None
    except (httpx.HTTPError, ValueError):
        return None


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: (SCHEMA_REF + renames.get(v[len(SCHEMA_REF):], v[len(SCHEMA_REF):])
                    if k == "$ref" and isinstance(v, str) and v.startswith(SCHEMA_REF) else _rename_refs(v, renames))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def merge(own: dict[str, Any], services: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The gateway's document plus every reachable service's paths and schemas; a schema name two services use
    differently is prefixed with the service's name (and its references rewritten)."""
    document = copy.deepcopy(own)
    paths: dict[str, Any] = document.setdefault("paths", {})
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    status: dict[str, str] = {}
    for service, spec in services.items():
        if spec is None:
            status[service] = "unavailable"
            continue
        status[service] = "ok"
        theirs = spec.get("components", {}).get("schemas", {})
        renames = {name: f"{service}_{name}" for name, schema in theirs.items()
                   if name in schemas and schemas[name] != schema}
        spec = _rename_refs(spec, renames)
        for name, schema in spec.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(renames.get(name, name), schema)
        for path, item in spec.get("paths", {}).items():
            for operation in item.values():
                if isinstance(operation, dict) and not operation.get("tags"):
                    operation["tags"] = [service]
            paths.setdefault(path, item)
    document.setdefault("components", {})["securitySchemes"] = {"oauth2": {
        "type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}}}}
    document["security"] = [{"oauth2": []}]
    document["x-fupin-services"] = status
    return document


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> JSONResponse:
    rt = runtime(request)
    cache: OpenApiCache = request.app.state.openapi_cache
    urls = {service: rt.settings.upstream_url(service) for service in SERVICES}
    return JSONResponse(await cache.get(request.app, rt.http, urls))


SWAGGER_ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
                  "favicon-32x32.png": "image/png"}


def _swagger_dir() -> Path | None:
    """Swagger UI's files from the `swagger-ui-bundle` package (vendored: a closed network has no CDN)."""
    try:
        import swagger_ui_bundle  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


@router.get("/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Fupin API",
                               swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs/assets/swagger-ui.css",
                               swagger_favicon_url="/docs/assets/favicon-32x32.png")


@router.get("/docs/assets/{name}", include_in_schema=False)
async def swagger_asset(name: str) -> Response:
    folder = _swagger_dir()
    if name not in SWAGGER_ASSETS or folder is None or not (folder / name).is_file():
        return JSONResponse({"detail": "not found"}, status_code=404)
    return FileResponse(folder / name, media_type=SWAGGER_ASSETS[name], headers={"Cache-Control": "max-age=86400"})


# ReDoc 2.5.4's standalone bundle, vendored byte for byte from the npm package `redoc` (MIT; its third-party notices
# beside it): gateway/README.md "Vendored assets" says how to update it.
STATIC = Path(__file__).resolve().parent / "web" / "static"
REDOC_ASSETS = {"redoc.standalone.js": "text/javascript; charset=utf-8",
                "redoc.standalone.js.LICENSE.txt": "text/plain; charset=utf-8",
                "redoc.LICENSE": "text/plain; charset=utf-8"}
# Only the gateway's own origin: ReDoc's styles are injected at run time (inline) and its search runs in a blob:
# worker; nothing may come from anywhere else.
REDOC_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
                "base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fupin API (ReDoc)</title>
<link rel="icon" href="/app/favicon.svg" type="image/svg+xml">
</head>
<body>
<redoc spec-url="/openapi.json" hide-download-button></redoc>
<script src="/redoc/assets/redoc.standalone.js"></script>
</body>
</html>
"""


@router.get("/redoc", include_in_schema=False)
async def redoc() -> HTMLResponse:
    """ReDoc over the same document as /docs; no inline script (the bundle reads the <redoc> element)."""
    return HTMLResponse(REDOC_PAGE, headers={"Content-Security-Policy": REDOC_POLICY,
                                             "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})


# The one resource the bundle would load from elsewhere: its footer's logo. Pointed at our own icon when served (the
# vendored file stays byte for byte the published one); the page's policy would block it anyway.
REDOC_EXTERNAL_LOGO = (b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"/app/favicon.svg")


@functools.cache
def _redoc_file(name: str) -> bytes | None:
    path = STATIC / name
    if name not in REDOC_ASSETS or not path.is_file():
        return None
    content = path.read_bytes()
    return content.replace(*REDOC_EXTERNAL_LOGO) if name.endswith(".js") else content


@router.get("/redoc/assets/{name}", include_in_schema=False)
async def redoc_asset(name: str) -> Response:
    content = _redoc_file(name) if name in REDOC_ASSETS else None
    if content is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return Response(content, media_type=REDOC_ASSETS[name],
                    headers={"Cache-Control": "max-age=86400", "X-Content-Type-Options": "nosniff"})
