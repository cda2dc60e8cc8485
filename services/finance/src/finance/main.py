from fastapi import FastAPI

from finance.budgets.router import router as budgets_router
from finance.config import COMPONENT, get_settings
from finance.disclosures.router import router as disclosures_router
from finance.events.handlers import HANDLERS
from finance.funds.router import router as funds_router
from finance.ledger.router import router as ledger_router
from finance.payments.router import router as payments_router
from fupin_kit.app import create_service_app


def create_app() -> FastAPI:
    # Payment-ordering topics have batch handlers: the kit applies a poll batch per transaction (events/handlers.py)
    return create_service_app(
        component=COMPONENT, title="Fupin finance", settings=get_settings(),
        routers=[budgets_router, funds_router, ledger_router, payments_router, disclosures_router],
        handlers=HANDLERS)


app = create_app()
