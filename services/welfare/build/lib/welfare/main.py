from fastapi import FastAPI

from fupin_kit.app import create_service_app
from welfare.assistance.router import router as assistance_router
from welfare.benefits.router import router as benefits_router
from welfare.cases.router import router as cases_router
from welfare.config import COMPONENT, get_settings
from welfare.events.handlers import HANDLERS
from welfare.policies.router import router as policies_router
from welfare.rangers.router import router as rangers_router
from welfare.relocations.router import router as relocations_router


def create_app() -> FastAPI:
    return create_service_app(
        component=COMPONENT, title="Fupin welfare", settings=get_settings(),
        routers=[policies_router, cases_router, assistance_router, rangers_router, relocations_router,
                 benefits_router],
        handlers=HANDLERS)


app = create_app()
