"""Helpers for tests on real PostgreSQL and Kafka: keys, tokens, fresh databases, migrations, the app in-process.

A service's integration conftest is typically::

    PRIVATE_KEY, PUBLIC_KEY = generate_keypair()

    @pytest.fixture(scope="session")
    def database_url(tmp_path_factory):
        url = prepare_service_database("finance", ALEMBIC_INI, tmp_path_factory.mktemp("keys"), PUBLIC_KEY)
        asyncio.run(skip_history(kafka_bootstrap(), fresh_consumer_group("finance"), HANDLERS))
        return url

    @pytest.fixture
    async def client(database_url):
        async with serve(create_app(), base_url="http://finance.test") as http:
            yield http
"""

import asyncio
import atexit
import contextlib
import datetime as dt
import functools
import os
import subprocess
import sys
import uuid
import warnings
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from fupin_kit.events.topics import PREFIX_ENV, kafka_topic, topic_prefix


def pg_server_dsn() -> str:
    """A libpq DSN to the `postgres` database of the test PostgreSQL server (`FUPIN_TEST_PG_DSN`, else the local dev
    server on `FUPIN_PG_PORT`)."""
    port = os.environ.get("FUPIN_PG_PORT", "15432")
    return os.environ.get("FUPIN_TEST_PG_DSN", f"postgresql://postgres@127.0.0.1:{port}/postgres")


def kafka_bootstrap() -> str:
    """The Kafka bootstrap servers the tests (and the app under test) use."""
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def generate_keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def mint_token(private_pem: str, client_id: str, scopes: str, *, bank_code: str | None = None,
               ttl: dt.timedelta = dt.timedelta(minutes=30), hospitals: tuple[str, ...] | None = None,
               kid: str | None = None) -> str:
    """A token as the gateway signs it; `hospitals` is an HIS client's claim (`("*",)` = every hospital)."""
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, object] = {"iss": "fupin-gateway", "aud": "fupin", "sub": client_id, "scope": scopes,
                                 "iat": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
    if bank_code:
        claims["bank_code"] = bank_code
    if hospitals is not None:
        claims["hospitals"] = list(hospitals)
    return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": kid} if kid else None)


async def recreate_database(server_dsn: str, name: str) -> None:
    """Drop and create database `name` on the server of `server_dsn` (a libpq DSN to any database there)."""
    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _drop_database(server_dsn: str, name: str) -> None:
    """Drop database `name` (at exit; best effort, bounded)."""
    async def drop() -> None:
        conn = await asyncpg.connect(server_dsn, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', timeout=20)
        finally:
            await conn.close()

    with contextlib.suppress(Exception):
        asyncio.run(drop())


def migrate(alembic_ini: Path, url_env: str, url: str) -> None:
    """Run `alembic upgrade head` in a subprocess (Alembic's env.py runs its own event loop)."""
    env = {**os.environ, url_env: url}
    subprocess.run([sys.executable, "-m", "alembic", "-c", str(alembic_ini), "upgrade", "head"],
                   check=True, env=env, cwd=alembic_ini.parent)


async def wait_for_event(bootstrap_servers: str, topic: str, subject: str, *, timeout: float = 60.0,
                         event_type: str | None = None) -> dict:
    """The first event of `topic` about `subject` (of `event_type`, when given), read from the beginning."""
    found = await events_about(bootstrap_servers, topic, [subject], timeout=timeout, event_type=event_type)
    return found[0].event


@dataclass(frozen=True)
class Received:
    """One record a probe read: the CloudEvent, its key, its Kafka headers and where it was."""

    key: str
    event: dict[str, Any]
    headers: list[tuple[str, bytes]]
    partition: int
    offset: int

    def header(self, name: str) -> str | None:
        return next((v.decode() for k, v in self.headers if k == name), None)


async def events_about(bootstrap_servers: str, topic: str, subjects: Iterable[str], count: int = 1, *,
                       timeout: float = 60.0, from_end: int | None = None, drain: bool = False,
                       event_type: str | None = None) -> list[Received]:
    """The first `count` records of `topic` (this run's Kafka topic) whose key is one of `subjects`, in each
    partition's order. The partitions are assigned directly (no consumer group to join or rebalance) and read from
    their beginning, or from `from_end` records before their end (an event published a moment ago on a long topic).
    With `drain`, the records about `subjects` up to the partitions' ends once `count` have arrived are returned too
    (to show that nothing else was published before them). With `event_type`, only events of that CloudEvent type
    count. Raises TimeoutError when fewer arrive within `timeout`."""
    import json

    from aiokafka import AIOKafkaConsumer, TopicPartition

    wanted = set(subjects)
    found: list[Received] = []
    name = kafka_topic(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    metadata = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)  # the one public client that waits for them
    await consumer.start()
    await metadata.start()
    try:
        async with asyncio.timeout(timeout):
            assigned = [TopicPartition(name, p) for p in sorted(await metadata.partitions_for(name))]
            await metadata.stop()
            consumer.assign(assigned)
            if from_end is None:
                await consumer.seek_to_beginning(*assigned)
            else:
                for tp, end in (await consumer.end_offsets(assigned)).items():
                    consumer.seek(tp, max(0, end - from_end))
            ends: dict[Any, int] | None = None
            while True:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    found.extend(received for received in (
                        Received(r.key.decode(), json.loads(r.value), list(r.headers or []), r.partition, r.offset)
                        for r in records if r.key is not None and r.key.decode() in wanted)
                        if event_type is None or received.event["type"] == event_type)
                if len(found) >= count and not drain:
                    return found[:count]
                if len(found) >= count and ends is None:
                    ends = await consumer.end_offsets(assigned)
                if ends is not None and all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                    return found
    finally:
        await metadata.stop()
        await consumer.stop()


async def ensure_topics(bootstrap_servers: str, names: list[str], partitions: int = 1,
                        timeout: float = 120.0) -> None:
    """Create topics that do not exist yet (the local broker does not auto-create topics) and return once the broker
    lists every one of them. A creation refused with a retriable error code (the controller busy on a loaded machine:
    `create_topics` reports it in its answer rather than raising) is tried again."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    names = [kafka_topic(n) for n in names]  # this run's namespace (FUPIN_TOPIC_PREFIX), when it has one
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        async with asyncio.timeout(timeout):
            while missing := set(names) - set(await admin.list_topics()):
                answer = await admin.create_topics(
                    [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in sorted(missing)])
                errors = {e[0]: e[1] for e in getattr(answer, "topic_errors", [])
                          if e[1] not in (0, 36)}  # 36: TopicAlreadyExists (a concurrent creator won)
                if errors:
                    await asyncio.sleep(0.5)
                else:
                    await asyncio.sleep(0.1)  # created: listed by the broker's metadata shortly
    finally:
        await admin.close()


def isolate_topics(bootstrap_servers: str | None = None, extra: Iterable[str] = (), *, contract: bool = True) -> str:
    """Give this test run Kafka topics of its own: set `FUPIN_TOPIC_PREFIX` to a fresh `t<pid>-<random>.` (unless
    set already), create every contract topic (3 partitions, as the dev stack) and its `.dlq` (unless `contract` is
    false) plus `extra` under it,
    and delete them when the process exits. Call it at the top of a suite's conftest, before any app starts: the app
    under test, its relay and consumers, and these helpers then use the prefixed topics, and the running stack's
    consumers never see the suite's events. Returns the prefix."""
    from fupin_events import topic_names

    if not (prefix := topic_prefix()):
        prefix = os.environ[PREFIX_ENV] = f"t{os.getpid()}-{uuid.uuid4().hex[:6]}."
        atexit.register(_drop_topics, bootstrap_servers or kafka_bootstrap(), prefix)
    bootstrap = bootstrap_servers or kafka_bootstrap()
    names = topic_names() if contract else ()
    try:
        if names:
            asyncio.run(ensure_topics(bootstrap, list(names), partitions=3))
        if names or extra:
            asyncio.run(ensure_topics(bootstrap, [*(f"{t}.dlq" for t in names), *extra]))
    except Exception as exc:  # no broker: the suite's unit tests still run, its Kafka tests fail on their own
        warnings.warn(f"isolate_topics: the topics of {prefix} were not created ({type(exc).__name__})", stacklevel=2)
    return prefix


def _drop_topics(bootstrap_servers: str, prefix: str) -> None:
    """Delete the topics of `prefix` (at exit; best effort, bounded: a leftover only costs the broker disk)."""
    from aiokafka.admin import AIOKafkaAdminClient

    async def drop() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
        await admin.start()
        try:
            names = [t for t in await admin.list_topics() if t.startswith(prefix)]
            if names:
                await admin.delete_topics(names)
        finally:
            await admin.close()

    async def bounded() -> None:
        async with asyncio.timeout(20):
            await drop()

    with contextlib.suppress(Exception):
        asyncio.run(bounded())


class PrefixedProducer(AIOKafkaProducer):
    """An `AIOKafkaProducer` that sends to this run's Kafka topics: a test names the event topic (`grant-awarded`)
    and the record goes to `<FUPIN_TOPIC_PREFIX>grant-awarded`, where the app under test consumes."""

    async def send(self, topic: str, *args: Any, **kwargs: Any) -> Any:
        return await super().send(kafka_topic(topic), *args, **kwargs)

    async def partitions_for(self, topic: str) -> Any:
        return await super().partitions_for(kafka_topic(topic))


def bearer(private_pem: str, scopes: str, client_id: str = "gov-portal",
           bank_code: str | None = None, hospitals: tuple[str, ...] | None = None) -> dict[str, str]:
    """`Authorization` header for a token the gateway would have issued. Minted once per arguments for the process
    (RSA signing is slow enough to dominate a test of a hundred parallel requests); tokens live 30 minutes."""
    return {"Authorization": f"Bearer {_minted(private_pem, scopes, client_id, bank_code, hospitals)}"}


@functools.cache
def _minted(private_pem: str, scopes: str, client_id: str, bank_code: str | None,
            hospitals: tuple[str, ...] | None) -> str:
    return mint_token(private_pem, client_id, scopes, bank_code=bank_code, hospitals=hospitals)


def prepare_service_database(service: str, alembic_ini: Path, key_dir: Path, public_key: str, *,
                             server_dsn: str | None = None) -> str:
    """Set up the environment a service's app reads, for an integration session (call it from a sync fixture):
    create a database of this run's own (`<service>_test_<random>`: several engineers and CI jobs run a suite on the
    one shared server at once, and a shared name was dropped under a running session), dropped when the process
    exits; migrate it to head with Alembic, write `public_key` into `key_dir`, and set `<SERVICE>_DATABASE_URL` and
    `FUPIN_JWT_PUBLIC_KEY_FILE`. Returns the SQLAlchemy (asyncpg) URL of the database."""
    server_dsn = server_dsn or pg_server_dsn()
    name = f"{service}_test_{uuid.uuid4().hex[:8]}"
    asyncio.run(recreate_database(server_dsn, name))
    atexit.register(_drop_database, server_dsn, name)
    url = server_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    url_env = f"{service.upper()}_DATABASE_URL"
    migrate(alembic_ini, url_env, url)
    key_file = key_dir / "jwt_public.pem"
    key_file.write_text(public_key)
    os.environ[url_env] = url
    os.environ["FUPIN_JWT_PUBLIC_KEY_FILE"] = str(key_file)
    os.environ.setdefault("FUPIN_PROFILE", "test")  # without a profile a component runs as prod (fail closed)
    return url


def fresh_consumer_group(service: str) -> str:
    """Give the app under test a consumer group of its own (`FUPIN_CONSUMER_GROUP`) so it never steals partitions
    from the running stack's service; returns the group id."""
    group = f"{service}-test-{uuid.uuid4().hex[:8]}"
    os.environ["FUPIN_CONSUMER_GROUP"] = group
    return group


async def skip_history(bootstrap_servers: str, group: str, topics: Iterable[str]) -> None:
    """Commit `group`'s offsets at the current end of `topics` (those that exist), so an app consuming with that
    fresh group starts there: events other suites and earlier runs left on the shared broker are skipped, events
    published from now on are still consumed. (The service itself starts from the earliest offset, as in production.)
    """
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)  # partitions_for() fetches a topic's metadata
    await consumer.start()
    await producer.start()
    try:
        existing = await consumer.topics()
        names = [kafka_topic(t) for t in topics]
        partitions = [TopicPartition(topic, p) for topic in dict.fromkeys(names) if topic in existing
                      for p in sorted(await producer.partitions_for(topic))]
        if partitions:
            consumer.assign(partitions)
            await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await producer.stop()
        await consumer.stop()


def asgi_client(app: FastAPI, base_url: str = "http://test") -> httpx.AsyncClient:
    """An httpx client that calls `app` in-process (the app's lifespan must already be running)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@asynccontextmanager
async def serve(app: FastAPI, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan (database, relay, consumers) and yield an in-process client for it."""
    async with app.router.lifespan_context(app), asgi_client(app, base_url) as http:
        yield http


# The platform endpoints every app from `fupin_kit.app` serves. A service's tests/test_platform.py imports these two
# tests (they run against its `client` fixture): `from fupin_kit.testing import test_health_and_readiness, ...`.

async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code in (200, 503)
    assert ready.json()["checks"]["database"] is True


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient) -> None:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert "fupin_http_request_duration_seconds" in answer.text


# --- playing the registry: household snapshots built from the event contract ------------------------------------

TOPIC_OF_STATUS = {"registered": "household-registered", "exited": "exit-certified",
                   "returned": "returned-to-poverty", "removed": "household-removed"}


def household_event(household_id: str | uuid.UUID, status: str, members: Iterable[Any], *,
                    village_code: str = "610723101001", occurred_at: dt.datetime | None = None,
                    sequence: int | None = None, topic: str | None = None, causes: Iterable[str] = (),
                    validate: bool = True) -> dict[str, Any]:
    """A registry household event (CloudEvent) whose data is a `fupin_events.payloads.HouseholdSnapshot`, so a test
    publishes exactly what the registry would. `members` are `HouseholdMember`s or their dicts. Without `sequence`
    the snapshot's time in microseconds stands in for the registry's per-household counter (a later change has a
    higher number), so a test that publishes an older snapshot late gives it an older time. `validate=False`
    publishes what it is given without the model, for a test that sends a malformed snapshot on purpose."""
    from fupin_events.payloads import HouseholdMember, HouseholdSnapshot
    from fupin_kit.events.envelope import cloud_event

    moment = occurred_at or dt.datetime.now(dt.UTC)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    topic = topic or TOPIC_OF_STATUS.get(status, "household-registered")
    number = sequence if sequence is not None else int(moment.timestamp() * 1_000_000)
    if not validate:
        return cloud_event(source="registry", topic=topic, subject=str(household_id), data={
            "household_id": str(household_id), "status": status, "village_code": village_code,
            "town_code": village_code[:9], "county_code": village_code[:6], "causes": list(causes),
            "members": list(members), "occurred_at": moment, "sequence": number})
    snapshot = HouseholdSnapshot(
        household_id=uuid.UUID(str(household_id)), status=status,  # type: ignore[arg-type]
        village_code=village_code, town_code=village_code[:9], county_code=village_code[:6], causes=list(causes),
        members=[m if isinstance(m, HouseholdMember) else HouseholdMember.model_validate(m) for m in members],
        occurred_at=moment, sequence=number)
    return cloud_event(source="registry", topic=topic, subject=str(household_id),
                       data=snapshot.model_dump(mode="json"))


async def publish_household(producer: Any, household_id: str | uuid.UUID, status: str, members: Iterable[Any],
                            **options: Any) -> dict[str, Any]:
    """Build `household_event(...)` and publish it, keyed by the household as the registry's relay does."""
    import json

    event = household_event(household_id, status, members, **options)
    await producer.send_and_wait(kafka_topic(event["type"].removeprefix("cn.fupin.")), json.dumps(event).encode(),
                                 key=str(household_id).encode())
    return event
