"""Integration fixtures: a fresh `finance_test` database migrated with Alembic on the real PostgreSQL server,
the real Kafka broker, and the app driven in-process through httpx with its lifespan running."""

import functools
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fupin_kit.testing import generate_keypair, migrate, mint_token, recreate_database

SERVICE = "finance"
HERE = Path(__file__).resolve().parent
PG_PORT = os.environ.get("FUPIN_PG_PORT", "55432")
SERVER_DSN = os.environ.get("FUPIN_TEST_PG_DSN", f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres")
TEST_DB = f"{SERVICE}_test"
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    import asyncio

    asyncio.run(recreate_database(SERVER_DSN, TEST_DB))
    url = SERVER_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{TEST_DB}"
    migrate(HERE.parent / "alembic.ini", f"{SERVICE.upper()}_DATABASE_URL", url)
    key_file = tmp_path_factory.mktemp("keys") / "jwt_public.pem"
    key_file.write_text(PUBLIC_KEY)
    os.environ[f"{SERVICE.upper()}_DATABASE_URL"] = url
    os.environ["FUPIN_JWT_PUBLIC_KEY_FILE"] = str(key_file)
    group = f"{SERVICE}-test-{uuid.uuid4().hex[:8]}"
    os.environ["FUPIN_CONSUMER_GROUP"] = group
    asyncio.run(skip_history(group))
    return url


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    from finance.config import get_settings
    from finance.main import create_app

    get_settings.cache_clear()
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://finance.test") as http:
            yield http


async def skip_history(group: str) -> None:
    """Start the test consumer group at the end of the money topics: events other suites (and earlier runs) left on
    the shared broker are not this session's; events published while the session runs are still consumed."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from finance.payments.handlers import HANDLERS

    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()  # consumer.topics() does not fill partitions
        partitions = [TopicPartition(topic, p) for topic in HANDLERS
                      for p in cluster.partitions_for_topic(topic) or ()]
        if partitions:
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.commit({tp: offset for tp, offset in ends.items()})
    finally:
        await consumer.stop()


def token(scopes: str, client_id: str = "gov-portal", bank_code: str | None = None) -> dict[str, str]:
    """Authorization header for a token the gateway would have issued (minted once per session: RSA signing is slow
    enough to dominate a test of a hundred parallel requests)."""
    return {"Authorization": f"Bearer {_minted(scopes, client_id, bank_code)}"}


@functools.cache
def _minted(scopes: str, client_id: str, bank_code: str | None) -> str:
    return mint_token(PRIVATE_KEY, client_id, scopes, bank_code=bank_code)


WRITER = "finance:read finance:write"
READER = "finance:read"


def new_county() -> str:
    """A county code no other test (or earlier run) uses, so balances and queues are this test's alone."""
    import random

    return f"{random.randint(110000, 659999)}"


def village_of(county: str) -> str:
    return f"{county}101{uuid.uuid4().int % 1000:03d}"


async def receive(http: httpx.AsyncClient, jurisdiction_code: str, amount: str, *, source: str = "central",
                  purpose: str = "poverty alleviation", year: int = 2020) -> dict:  # type: ignore[type-arg]
    answer = await http.post("/finance/funds", headers=token(WRITER), json={
        "jurisdiction_code": jurisdiction_code, "year": year, "source": source, "purpose": purpose, "amount": amount})
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def allocate(http: httpx.AsyncClient, fund_id: str, program: str, amount: str) -> httpx.Response:
    return await http.post("/finance/allocations", headers=token(WRITER),
                           json={"from_fund_id": fund_id, "program": program, "amount": amount})


async def balance(http: httpx.AsyncClient, jurisdiction_code: str, program: str) -> str:
    answer = await http.get("/finance/accounts", headers=token(READER),
                            params={"jurisdiction_code": jurisdiction_code, "program": program})
    assert answer.status_code == 200, answer.text
    return answer.json()[0]["balance"]  # type: ignore[no-any-return]


async def verify_ledger(http: httpx.AsyncClient) -> dict:  # type: ignore[type-arg]
    answer = await http.get("/finance/ledger/verify", headers=token(READER))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["balanced"] is True, report
    assert report["negative_balances"] == 0 and report["total_debits"] == report["total_credits"]
    return report  # type: ignore[no-any-return]
