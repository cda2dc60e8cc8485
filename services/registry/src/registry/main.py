from fastapi import FastAPI

from fupin_kit.app import create_service_app
from registry.config import COMPONENT, get_settings


def create_app() -> FastAPI:
    return create_service_app(component=COMPONENT, title="Fupin registry", settings=get_settings(), routers=[])


app = create_app()
