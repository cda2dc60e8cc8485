from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fupin_kit.app import create_service_app
from registry import health
from registry.config import COMPONENT, get_settings
from registry.divisions.router import router as divisions
from registry.events.handlers import HANDLERS
from registry.exits.router import router as exits
from registry.households.router import router as households
from registry.imports import service as imports_service
from registry.imports.router import router as imports
from registry.monitoring.router import router as monitoring
from registry.policies.router import router as policies
from registry.verification.router import router as verification
from registry.warmap.router import router as warmap


def create_app() -> FastAPI:
    settings = get_settings()
    app = create_service_app(component=COMPONENT, title="Fupin registry", settings=settings,
                             routers=[divisions, households, verification, exits, policies, imports,
                                      monitoring, warmap,
                                      health.router],
                             handlers=HANDLERS)
    platform_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """The kit's lifespan, then imports a previous process left behind: interrupted ones are failed, queued
        ones (accepted, never started) are run."""
        async with platform_lifespan(app):
            _, queued = await imports_service.recover_interrupted(settings.database_url)
            for import_id in queued:
                imports_service.start(app.state, settings.database_url, import_id)
            yield

    app.router.lifespan_context = lifespan
    return app


app = create_app()
