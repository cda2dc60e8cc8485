"""Integration fixtures: a fresh `microcredit_test` database migrated with Alembic on the real PostgreSQL server,
the real Kafka broker, and the app driven in-process through httpx with its lifespan running."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from mc_support import Registry

from fupin_kit.testing import (
    PrefixedProducer,
    bearer,
    fresh_consumer_group,
    generate_keypair,
    isolate_topics,
    kafka_bootstrap,
    prepare_service_database,
    serve,
    skip_history,
)

SERVICE = "microcredit"
TOPIC_PREFIX = isolate_topics()  # this run's own Kafka topics: its events never reach the running stack
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()
KAFKA = kafka_bootstrap()
HOUSEHOLD_TOPICS = ("household-registered", "exit-certified", "returned-to-poverty", "household-removed")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = prepare_service_database(SERVICE, Path(__file__).resolve().parent.parent / "alembic.ini",
                                   tmp_path_factory.mktemp("keys"), PUBLIC_KEY)
    # The app under test reads the households published from now on, not every one other suites ever published.
    asyncio.run(skip_history(KAFKA, fresh_consumer_group(SERVICE), HOUSEHOLD_TOPICS))
    return url


@pytest.fixture(scope="session")
async def registry(database_url: str) -> AsyncIterator[Registry]:
    """Plays the registry service: household snapshots onto the real Kafka topics."""
    producer = PrefixedProducer(bootstrap_servers=KAFKA, acks="all")
    await producer.start()
    try:
        yield Registry(producer, database_url.replace("postgresql+asyncpg://", "postgresql://"))
    finally:
        await producer.stop()


@pytest.fixture(scope="session")
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """One app for the session: its consumer joins the group once (tests use their own households and loans)."""
    from microcredit.config import get_settings
    from microcredit.main import create_app

    get_settings.cache_clear()
    async with serve(create_app(), base_url="http://microcredit.test") as http:
        yield http


def token(scopes: str, client_id: str = "gov-portal", bank_code: str | None = None) -> dict[str, str]:
    """Authorization header for a token the gateway would have issued."""
    return bearer(PRIVATE_KEY, scopes, client_id, bank_code)
