"""Integration fixtures: a fresh `microcredit_test` database migrated with Alembic on the real PostgreSQL server,
the real Kafka broker, and the app driven in-process through httpx with its lifespan running."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from mc_support import Registry

from fupin_kit.testing import generate_keypair, migrate, mint_token, recreate_database

SERVICE = "microcredit"
HERE = Path(__file__).resolve().parent
PG_PORT = os.environ.get("FUPIN_PG_PORT", "55432")
SERVER_DSN = os.environ.get("FUPIN_TEST_PG_DSN", f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres")
TEST_DB = f"{SERVICE}_test"
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
HOUSEHOLD_TOPICS = ("household-registered", "exit-certified", "returned-to-poverty", "household-removed")


async def start_group_at_end(group_id: str, topics: tuple[str, ...]) -> None:
    """Commit the current end offsets for the test's fresh consumer group, so the app under test reads the events
    published from now on instead of replaying every household other suites ever published (the service itself
    still starts from the earliest offset, as in production)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=group_id, enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)  # partitions_for() fetches the topic's metadata
    await consumer.start()
    await producer.start()
    try:
        existing = await consumer.topics()
        partitions = [TopicPartition(topic, p) for topic in topics if topic in existing
                      for p in sorted(await producer.partitions_for(topic))]
        if partitions:
            consumer.assign(partitions)
            await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await producer.stop()
        await consumer.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    asyncio.run(recreate_database(SERVER_DSN, TEST_DB))
    url = SERVER_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{TEST_DB}"
    migrate(HERE.parent / "alembic.ini", f"{SERVICE.upper()}_DATABASE_URL", url)
    key_file = tmp_path_factory.mktemp("keys") / "jwt_public.pem"
    key_file.write_text(PUBLIC_KEY)
    os.environ[f"{SERVICE.upper()}_DATABASE_URL"] = url
    os.environ["FUPIN_JWT_PUBLIC_KEY_FILE"] = str(key_file)
    group_id = f"{SERVICE}-test-{uuid.uuid4().hex[:8]}"
    os.environ["FUPIN_CONSUMER_GROUP"] = group_id
    asyncio.run(start_group_at_end(group_id, HOUSEHOLD_TOPICS))
    return url


@pytest.fixture(scope="session")
async def registry(database_url: str) -> AsyncIterator[Registry]:
    """Plays the registry service: household snapshots onto the real Kafka topics."""
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
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
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://microcredit.test") as http:
            yield http


def token(scopes: str, client_id: str = "gov-portal", bank_code: str | None = None) -> dict[str, str]:
    """Authorization header for a token the gateway would have issued."""
    return {"Authorization": f"Bearer {mint_token(PRIVATE_KEY, client_id, scopes, bank_code=bank_code)}"}
