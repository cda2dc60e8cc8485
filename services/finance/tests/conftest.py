"""Integration fixtures: a fresh `finance_test` database migrated with Alembic on the real PostgreSQL server,
the real Kafka broker, and the app driven in-process through httpx with its lifespan running."""

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.dialects.postgresql import insert

from fupin_kit.db import Database
from fupin_kit.events.envelope import cloud_event
from fupin_kit.events.failures import Failure, classify
from fupin_kit.events.models import InboxEvent
from fupin_kit.testing import (
    PrefixedProducer,
    bearer,
    fresh_consumer_group,
    generate_keypair,
    isolate_topics,
    kafka_bootstrap,
    migrate,
    pg_server_dsn,
    recreate_database,
    serve,
    skip_history,
)

SERVICE = "finance"
TOPIC_PREFIX = isolate_topics()  # this run's own Kafka topics: its events never reach the running stack
KAFKA = kafka_bootstrap()
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this session's own (`finance_test_<random>`, dropped at the end): several engineers and CI
    jobs run the finance suite on the one shared server at the same time, and a shared `finance_test` would be
    dropped under a running session."""
    from finance.events.handlers import HANDLERS

    name = f"{SERVICE}_test_{uuid.uuid4().hex[:8]}"
    server = pg_server_dsn()
    asyncio.run(recreate_database(server, name))
    url = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    migrate(Path(__file__).resolve().parent.parent / "alembic.ini", "FINANCE_DATABASE_URL", url)
    key_file = tmp_path_factory.mktemp("keys") / "jwt_public.pem"
    key_file.write_text(PUBLIC_KEY)
    os.environ["FINANCE_DATABASE_URL"] = url
    os.environ["FUPIN_JWT_PUBLIC_KEY_FILE"] = str(key_file)
    os.environ.setdefault("FUPIN_PROFILE", "test")
    # Start at the end of the money topics: events other suites (and earlier runs) left on the shared broker are not
    # this session's; events published while the session runs are still consumed.
    asyncio.run(skip_history(KAFKA, fresh_consumer_group(SERVICE), HANDLERS))
    yield url
    asyncio.run(_drop(server, name))


async def _drop(server: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    from finance.config import get_settings
    from finance.main import create_app

    get_settings.cache_clear()
    async with serve(create_app(), base_url="http://finance.test") as http:
        yield http


def token(scopes: str, client_id: str = "gov-portal", bank_code: str | None = None) -> dict[str, str]:
    """Authorization header for a token the gateway would have issued (minted once per session)."""
    return bearer(PRIVATE_KEY, scopes, client_id, bank_code)


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


# ---- events: one app (one consumer group member) per module, a producer, and waiting for payments

@pytest.fixture(scope="module")
async def http(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """One app (one consumer group member) for the whole module: a rebalance per test would only add waiting."""
    from finance.config import get_settings
    from finance.main import create_app

    get_settings.cache_clear()
    app = create_app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://finance.test") as client:
            yield client


@pytest.fixture(scope="module")
async def producer() -> AsyncIterator[AIOKafkaProducer]:
    kafka = PrefixedProducer(bootstrap_servers=KAFKA, enable_idempotence=True, acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


async def publish(producer: AIOKafkaProducer, topic: str, subject: str, data: dict[str, Any],
                  event: dict[str, Any] | None = None) -> dict[str, Any]:
    """Publish a CloudEvent as the other services do (key = subject); pass `event` to publish it again."""
    event = event or cloud_event(source="test", topic=topic, subject=subject, data=data)
    await producer.send_and_wait(topic, json.dumps(event).encode(), key=subject.encode())
    return event


async def payments_when(http: httpx.AsyncClient, reference: str, ready: Callable[[list[dict[str, Any]]], bool],
                        timeout: float = 45.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        answer = await http.get("/finance/payments", headers=token(READER), params={"reference": reference})
        assert answer.status_code == 200, answer.text
        if ready(answer.json()):
            return answer.json()  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"payments for {reference}: {answer.json()}"
        await asyncio.sleep(0.2)


def has(status: str, count: int = 1) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda payments: len(payments) == count and all(p["status"] == status for p in payments)


async def fund_program(http: httpx.AsyncClient, county: str, program: str, amount: str) -> dict[str, Any]:
    fund = await receive(http, county, amount, purpose=program)
    assert (await allocate(http, fund["fund_id"], program, amount)).status_code == 201
    return fund


# ---- handlers run as the kit's consumer runs them (inbox row and handler in one transaction), as many replicas at
# once would, straight against the database

@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=12)
    yield database
    await database.dispose()


async def deliver(db: Database, topic: str, event: dict[str, Any]) -> str:
    """What a consumer replica does with one record; transient failures (deadlocks, lock timeouts) are retried."""
    from finance.events.handlers import HANDLERS

    while True:
        try:
            async with db.session() as session:
                inserted = await session.exec(insert(InboxEvent).values(  # type: ignore[call-overload]
                    event_id=str(event["id"]), topic=topic).on_conflict_do_nothing().returning(InboxEvent.event_id))
                if inserted.first() is None:
                    return "duplicate"
                await HANDLERS[topic](session, event)
                await session.commit()
                return "handled"
        except Exception as exc:
            if classify(exc) is not Failure.TRANSIENT:
                raise
            await asyncio.sleep(0.05)
