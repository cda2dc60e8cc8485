"""The war map (contract §9) on the gateway: officials' login and sessions, and the web application at `/`, a small
vanilla-JS app served from this package (no CDN, no build step), plus Swagger UI for /docs from a vendored copy."""

from collections.abc import Iterable

from fastapi import FastAPI

from gateway.officials.router import router as officials_router
from gateway.officials.session import OfficialSessionMiddleware
from gateway.web.router import router as web_router


def install(app: FastAPI, *, services: Iterable[str]) -> None:
    app.include_router(officials_router)
    app.include_router(web_router)
    app.add_middleware(OfficialSessionMiddleware, prefixes=tuple(services))
