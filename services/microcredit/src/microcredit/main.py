from fastapi import FastAPI

from fupin_kit.app import create_service_app
from microcredit.claims.router import router as claims_router
from microcredit.config import COMPONENT, get_settings
from microcredit.eligibility.router import router as eligibility_router
from microcredit.events.handlers import HANDLERS
from microcredit.loans.router import router as loans_router
from microcredit.policies.router import router as policies_router
from microcredit.reports.router import router as reports_router


def create_app() -> FastAPI:
    return create_service_app(
        component=COMPONENT, title="Fupin microcredit", settings=get_settings(),
        routers=[eligibility_router, loans_router, claims_router, policies_router, reports_router],
        handlers=HANDLERS)


app = create_app()
