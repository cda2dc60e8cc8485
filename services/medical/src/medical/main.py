from fastapi import FastAPI

from fupin_kit.app import create_service_app
from medical.admissions.router import router as admissions_router
from medical.config import COMPONENT, get_settings
from medical.events.handlers import HANDLERS
from medical.hospitals.router import router as hospitals_router
from medical.policies.router import router as policies_router
from medical.reports.router import router as reports_router
from medical.settlements.router import router as settlements_router


def create_app() -> FastAPI:
    return create_service_app(
        component=COMPONENT, title="Fupin medical", settings=get_settings(), handlers=HANDLERS,
        routers=[hospitals_router, policies_router, admissions_router, settlements_router, reports_router])


app = create_app()
