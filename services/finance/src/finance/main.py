from fastapi import FastAPI

import fupin_kit.kafka
from finance.budgets.router import router as budgets_router
from finance.config import COMPONENT, get_settings
from finance.disclosures.router import router as disclosures_router
from finance.funds.router import router as funds_router
from finance.ledger.router import router as ledger_router
from finance.payments.consumer import PaymentBatchConsumer
from finance.payments.handlers import HANDLERS
from finance.payments.router import router as payments_router
from fupin_kit.app import create_service_app


def create_app() -> FastAPI:
    # Payment-ordering topics are applied a poll batch per transaction (payments/consumer.py) until the kit's consumer
    # takes batch handlers itself; every other topic goes through the kit's per-record path unchanged.
    fupin_kit.kafka.EventConsumer = PaymentBatchConsumer  # type: ignore[misc]
    return create_service_app(
        component=COMPONENT, title="Fupin finance", settings=get_settings(),
        routers=[budgets_router, funds_router, ledger_router, payments_router, disclosures_router],
        handlers=HANDLERS)


app = create_app()
