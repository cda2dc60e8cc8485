"""Integration fixtures: a fresh `education_test` database migrated with Alembic on the real PostgreSQL server,
the real Kafka broker, and the app driven in-process through httpx with its lifespan running."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from edu_support import KAFKA, PUBLIC_KEY, new_village, publish_household
from fastapi import FastAPI

from fupin_kit.testing import (
    PrefixedProducer,
    asgi_client,
    fresh_consumer_group,
    isolate_topics,
    prepare_service_database,
    skip_history,
)

SERVICE = "education"
TOPIC_PREFIX = isolate_topics()  # this run's own Kafka topics: its events never reach the running stack


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from education.events.handlers import HANDLERS

    url = prepare_service_database(SERVICE, Path(__file__).resolve().parent.parent / "alembic.ini",
                                   tmp_path_factory.mktemp("keys"), PUBLIC_KEY)
    # Households and payments published from now on, not every one the shared broker holds.
    asyncio.run(skip_history(KAFKA, fresh_consumer_group(SERVICE), HANDLERS))
    return url


@pytest.fixture(scope="session")
async def app(database_url: str, producer: AIOKafkaProducer, db: asyncpg.Connection) -> AsyncIterator[FastAPI]:
    """One app (and one consumer in the group) for the session: a new consumer per test would rebalance each time."""
    from education.config import get_settings
    from education.main import create_app

    get_settings.cache_clear()
    service = create_app()
    async with service.router.lifespan_context(service):
        await _caught_up(producer, db)
        yield service


async def _caught_up(producer: AIOKafkaProducer, db: asyncpg.Connection, timeout: float = 240.0) -> None:
    """Wait until a marker published now has been applied: the session's consumer has joined its group and is
    applying events, so that no test's own wait pays for the start-up."""
    marker = str(uuid.uuid4())
    await publish_household(producer, household_id=marker, status="registered", village_code=new_village(),
                            members=[])
    async with asyncio.timeout(timeout):
        while await db.fetchval("SELECT count(*) FROM household WHERE household_id = $1", uuid.UUID(marker)) == 0:
            await asyncio.sleep(0.5)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app, base_url="http://education.test") as http:
        yield http
    app.dependency_overrides.clear()


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the test database, to assert on what the service stored."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def producer() -> AsyncIterator[AIOKafkaProducer]:
    kafka = PrefixedProducer(bootstrap_servers=KAFKA, acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()
