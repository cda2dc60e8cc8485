from fastapi import FastAPI

from dashboard.config import COMPONENT, get_settings
from dashboard.events.handlers import HANDLERS
from dashboard.router import router
from fupin_kit.app import create_service_app


def create_app() -> FastAPI:
    return create_service_app(component=COMPONENT, title="Fupin dashboard (war map)", settings=get_settings(),
                              routers=[router], handlers=HANDLERS)


app = create_app()
