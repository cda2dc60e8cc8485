from fastapi import FastAPI

from assistance.assessment.router import router as assessment_router
from assistance.config import COMPONENT, get_settings
from assistance.events.handlers import HANDLERS
from assistance.helpers.router import router as helpers_router
from assistance.plans.router import router as plans_router
from assistance.policies.router import router as policies_router
from assistance.teams.router import router as teams_router
from fupin_kit.app import create_service_app


def create_app() -> FastAPI:
    return create_service_app(
        component=COMPONENT, title="Fupin assistance", settings=get_settings(),
        routers=[helpers_router, teams_router, plans_router, assessment_router, policies_router],
        handlers=HANDLERS)


app = create_app()
