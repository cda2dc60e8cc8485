"""Integration fixtures: a fresh `welfare_test` database migrated with Alembic on the real PostgreSQL server, the
real Kafka broker, and the app driven in-process through httpx with its lifespan running."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from wf_support import Bus

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

SERVICE = "welfare"
TOPIC_PREFIX = isolate_topics()  # this run's own Kafka topics: its events never reach the running stack
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()
KAFKA = kafka_bootstrap()
CONSUMED = ("household-registered", "exit-certified", "returned-to-poverty", "household-removed", "payment-completed")
PUBLISHED = ("benefit-due", "benefit-cancelled", "relocation-completed")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = prepare_service_database(SERVICE, Path(__file__).resolve().parent.parent / "alembic.ini",
                                   tmp_path_factory.mktemp("keys"), PUBLIC_KEY)
    asyncio.run(ensure_topics(KAFKA, list(CONSUMED + PUBLISHED)))
    # The app under test reads the events published from now on, not every one other suites ever published.
    asyncio.run(skip_history(KAFKA, fresh_consumer_group(SERVICE), CONSUMED))
    return url


@pytest.fixture(scope="session")
async def bus(database_url: str) -> AsyncIterator[Bus]:
    """Plays the registry and finance: household snapshots and payments onto the real Kafka topics."""
    producer = PrefixedProducer(bootstrap_servers=KAFKA, acks="all")
    await producer.start()
    try:
        yield Bus(producer, database_url.replace("postgresql+asyncpg://", "postgresql://"))
    finally:
        await producer.stop()


@pytest.fixture(scope="session")
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """One app for the session: its consumer joins the group once (tests use their own households)."""
    from welfare.config import get_settings
    from welfare.main import create_app

    get_settings.cache_clear()
    async with serve(create_app(), base_url="http://welfare.test") as http:
        yield http


def token(scopes: str = "welfare:read welfare:write", client_id: str = "gov-portal") -> dict[str, str]:
    """Authorization header for a token the gateway would have issued."""
    return bearer(PRIVATE_KEY, scopes, client_id)


WRITE = token()
READ = token("welfare:read", "auditor")
