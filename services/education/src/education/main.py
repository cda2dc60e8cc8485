from fastapi import FastAPI

from fupin_kit.app import create_service_app
from education.config import COMPONENT, get_settings


def create_app() -> FastAPI:
    return create_service_app(component=COMPONENT, title="Fupin education", settings=get_settings(), routers=[])


app = create_app()
