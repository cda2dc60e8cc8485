"""Integration fixtures: a fresh `assistance_test` database migrated with Alembic on the real PostgreSQL server, the
real Kafka broker (tests play the registry and finance by publishing their events), the app in-process."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from as_support import Upstream

from assistance.events.handlers import HANDLERS
from fupin_kit.testing import (
    PrefixedProducer,
    bearer,
    ensure_topics,
    fresh_consumer_group,
    generate_keypair,
    isolate_topics,
    kafka_bootstrap,
    prepare_service_database,
    serve,
    skip_history,
)

SERVICE = "assistance"
TOPIC_PREFIX = isolate_topics()  # this run's own Kafka topics: its events never reach the running stack
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()
KAFKA = kafka_bootstrap()
PUBLISHED = ("helper-assigned", "helper-released", "plan-measure-completed", "assessment-completed")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = prepare_service_database(SERVICE, Path(__file__).resolve().parent.parent / "alembic.ini",
                                   tmp_path_factory.mktemp("keys"), PUBLIC_KEY)
    asyncio.run(ensure_topics(KAFKA, [*HANDLERS, *PUBLISHED]))
    # The app under test reads the events published from now on, not every one other suites ever published.
    asyncio.run(skip_history(KAFKA, fresh_consumer_group(SERVICE), list(HANDLERS)))
    return url


@pytest.fixture(scope="session")
async def upstream(database_url: str) -> AsyncIterator[Upstream]:
    producer = PrefixedProducer(bootstrap_servers=KAFKA, acks="all")
    await producer.start()
    try:
        yield Upstream(producer, database_url.replace("postgresql+asyncpg://", "postgresql://"))
    finally:
        await producer.stop()


@pytest.fixture(scope="session")
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    from assistance.config import get_settings
    from assistance.main import create_app

    get_settings.cache_clear()
    async with serve(create_app(), base_url="http://assistance.test") as http:
        yield http


def token(scopes: str = "assistance:read assistance:write", client_id: str = "gov-portal") -> dict[str, str]:
    return bearer(PRIVATE_KEY, scopes, client_id)


WRITE = {"scopes": "assistance:read assistance:write"}
