from fastapi import FastAPI

from fupin_kit.app import create_service_app
from registry import health
from registry.config import COMPONENT, get_settings
from registry.divisions.router import router as divisions
from registry.exits.router import router as exits
from registry.households.router import router as households
from registry.imports.router import router as imports
from registry.monitoring.router import router as monitoring
from registry.policies.router import router as policies
from registry.verification.router import router as verification


def create_app() -> FastAPI:
    return create_service_app(component=COMPONENT, title="Fupin registry", settings=get_settings(),
                              routers=[divisions, households, verification, exits, policies, imports,
                                       monitoring,
                                       health.router])


app = create_app()
