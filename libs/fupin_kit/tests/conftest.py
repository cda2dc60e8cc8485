"""Kit integration fixtures on the real PostgreSQL server and Kafka broker."""

import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlmodel import Field, SQLModel

import fupin_kit.events.models  # noqa: F401  (the platform tables, for create_all)
from fupin_kit.db import Database
from fupin_kit.testing import ensure_topics, isolate_topics, recreate_database

PG_PORT = os.environ.get("FUPIN_PG_PORT", "15432")
SERVER_DSN = os.environ.get("FUPIN_TEST_PG_DSN", f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres")
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
KIT_TOPICS = ["kit-test-events", "kit-test-consumed", "kit-test-consumed.dlq"]
# this run's own Kafka topics (`FUPIN_TOPIC_PREFIX`): a fresh group reads from an empty topic, not from every record
# earlier runs left there
TOPIC_PREFIX = isolate_topics(KAFKA, KIT_TOPICS, contract=False)


class Widget(SQLModel, table=True):
    """A stand-in domain table for the kit's tests."""

    __tablename__ = "widgets"
    id: int | None = Field(default=None, primary_key=True)
    name: str


@pytest.fixture(scope="session")
async def db() -> AsyncIterator[Database]:
    await recreate_database(SERVER_DSN, "kit_test")
    url = SERVER_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/kit_test"
    database = Database(url)
    async with database.engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
        # what fupin_kit.migrations.add_outbox_parking adds in a service's migration
        await conn.execute(text("ALTER TABLE outbox ADD COLUMN IF NOT EXISTS parked_at timestamptz, "
                                "ADD COLUMN IF NOT EXISTS last_error varchar"))
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def kafka() -> str:
    await ensure_topics(KAFKA, KIT_TOPICS)
    return KAFKA
