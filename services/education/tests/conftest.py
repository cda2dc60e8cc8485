"""Integration fixtures: a fresh `education_test` database migrated with Alembic on the real PostgreSQL server,
the real Kafka broker, and the app driven in-process through httpx with its lifespan running."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from edu_support import KAFKA, PUBLIC_KEY, new_village, publish_household
from fastapi import FastAPI

from fupin_kit.testing import migrate, recreate_database

SERVICE = "education"
HERE = Path(__file__).resolve().parent
PG_PORT = os.environ.get("FUPIN_PG_PORT", "55432")
SERVER_DSN = os.environ.get("FUPIN_TEST_PG_DSN", f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres")
TEST_DB = f"{SERVICE}_test"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    asyncio.run(recreate_database(SERVER_DSN, TEST_DB))
    url = SERVER_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{TEST_DB}"
    migrate(HERE.parent / "alembic.ini", f"{SERVICE.upper()}_DATABASE_URL", url)
    key_file = tmp_path_factory.mktemp("keys") / "jwt_public.pem"
    key_file.write_text(PUBLIC_KEY)
    os.environ[f"{SERVICE.upper()}_DATABASE_URL"] = url
    os.environ["FUPIN_JWT_PUBLIC_KEY_FILE"] = str(key_file)
    os.environ["FUPIN_CONSUMER_GROUP"] = f"{SERVICE}-test-{uuid.uuid4().hex[:8]}"
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
    """The session's new consumer group reads every topic from the beginning, the running stack's history too:
    wait until a marker published now has been applied, so that no test's own wait pays for that backlog."""
    marker = str(uuid.uuid4())
    await publish_household(producer, household_id=marker, status="registered", village_code=new_village(),
                            members=[])
    async with asyncio.timeout(timeout):
        while await db.fetchval("SELECT count(*) FROM household WHERE household_id = $1", uuid.UUID(marker)) == 0:
            await asyncio.sleep(0.5)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://education.test") as http:
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
    kafka = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()
