"""Integration fixtures: a fresh `medical_test` database migrated with Alembic on the real PostgreSQL server,
the real Kafka broker, and the app driven in-process through httpx with its lifespan running."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from fupin_kit.testing import (
    bearer,
    fresh_consumer_group,
    generate_keypair,
    isolate_topics,
    kafka_bootstrap,
    prepare_service_database,
    serve,
    skip_history,
)

SERVICE = "medical"
TOPIC_PREFIX = isolate_topics()  # this run's own Kafka topics: its events never reach the running stack
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from medical.events.handlers import HANDLERS

    url = prepare_service_database(SERVICE, Path(__file__).resolve().parent.parent / "alembic.ini",
                                   tmp_path_factory.mktemp("keys"), PUBLIC_KEY)
    # The read model is fed by the households published from now on, not by every one the shared broker holds.
    asyncio.run(skip_history(kafka_bootstrap(), fresh_consumer_group(SERVICE), HANDLERS))
    return url


# One app for the whole session: its Kafka consumer joins its group once, and every test uses fresh ids.
@pytest.fixture(scope="session")
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    from medical.config import get_settings
    from medical.main import create_app

    get_settings.cache_clear()
    async with serve(create_app(), base_url="http://medical.test") as http:
        yield http


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A plain asyncpg pool on the test database, to assert DB effects."""
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    yield pool
    await pool.close()


def token(scopes: str, client_id: str = "gov-portal", bank_code: str | None = None,
          hospitals: tuple[str, ...] | None = None) -> dict[str, str]:
    """Authorization header for a token the gateway would have issued (`hospitals`: an HIS client's claim)."""
    return bearer(PRIVATE_KEY, scopes, client_id, bank_code, hospitals)
