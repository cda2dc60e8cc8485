"""Integration fixtures: a fresh `registry_test` database migrated with Alembic on the real PostgreSQL server,
the real Kafka broker, and the app driven in-process through httpx with its lifespan running."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fupin_kit.testing import (
    bearer,
    fresh_consumer_group,
    generate_keypair,
    isolate_topics,
    prepare_service_database,
    serve,
)

SERVICE = "registry"
TOPIC_PREFIX = isolate_topics()  # this run's own Kafka topics: its events never reach the running stack
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = prepare_service_database(SERVICE, Path(__file__).resolve().parent.parent / "alembic.ini",
                                   tmp_path_factory.mktemp("keys"), PUBLIC_KEY)
    fresh_consumer_group(SERVICE)
    return url


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    from registry.config import get_settings
    from registry.main import create_app

    get_settings.cache_clear()
    async with serve(create_app(), base_url="http://registry.test") as http:
        yield http


def token(scopes: str, client_id: str = "gov-portal", bank_code: str | None = None) -> dict[str, str]:
    """Authorization header for a token the gateway would have issued."""
    return bearer(PRIVATE_KEY, scopes, client_id, bank_code)
