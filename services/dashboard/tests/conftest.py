"""Integration fixtures: a fresh `dashboard_test` database migrated with Alembic on the real PostgreSQL server, the
real Kafka broker, and the app driven in-process through httpx with its lifespan running."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from dash_support import KAFKA, PUBLIC_KEY
from fastapi import FastAPI

from fupin_kit.testing import (
    PrefixedProducer,
    asgi_client,
    ensure_topics,
    fresh_consumer_group,
    isolate_topics,
    prepare_service_database,
    skip_history,
)

SERVICE = "dashboard"
TOPIC_PREFIX = isolate_topics()  # this run's own Kafka topics: its events never reach the running stack


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from dashboard.events.handlers import HANDLERS

    url = prepare_service_database(SERVICE, Path(__file__).resolve().parent.parent / "alembic.ini",
                                   tmp_path_factory.mktemp("keys"), PUBLIC_KEY)
    asyncio.run(ensure_topics(KAFKA, list(HANDLERS)))
    asyncio.run(skip_history(KAFKA, fresh_consumer_group(SERVICE), HANDLERS))
    return url


@pytest.fixture(scope="session")
async def producer() -> AsyncIterator[AIOKafkaProducer]:
    kafka = PrefixedProducer(bootstrap_servers=KAFKA)
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    from dashboard.config import get_settings
    from dashboard.main import create_app

    get_settings.cache_clear()
    service = create_app()
    async with service.router.lifespan_context(service):
        yield service


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app, base_url="http://dashboard.test") as http:
        yield http
