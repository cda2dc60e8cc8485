from fastapi import FastAPI

from education.config import COMPONENT, get_settings
from education.dropouts.router import router as dropouts_router
from education.enrollments.router import router as enrollments_router
from education.events.handlers import HANDLERS
from education.grants.router import router as grants_router
from education.policies.router import router as policies_router
from education.reports.router import router as reports_router
from fupin_kit.app import create_service_app


def create_app() -> FastAPI:
    return create_service_app(
        component=COMPONENT, title="Fupin education", settings=get_settings(),
        routers=[policies_router, enrollments_router, grants_router, dropouts_router, reports_router],
        handlers=HANDLERS)


app = create_app()
