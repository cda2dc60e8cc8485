"""Transient failures (a real lost connection, a lock wait past lock_timeout) are retried without limit, in order,
and never dead-lettered; content failures go to the DLQ at once with the error class only."""

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from conftest import Widget
from sqlalchemy import select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.db import Database
from fupin_kit.events.consumer import Backoff, EventConsumer, PoisonEvent
from fupin_kit.events.envelope import cloud_event
from fupin_kit.events.failures import Failure, classify
from fupin_kit.events.topics import kafka_topic
from fupin_kit.testing import PrefixedProducer

TOPIC = "kit-test-consumed"


async def names_in_order(db: Database, prefix: str) -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(Widget.name).where(Widget.name.startswith(prefix))  # type: ignore[attr-defined]
                                   .order_by(Widget.id))).all()
    return [r[0] for r in rows]


async def dead_letters(kafka: str, key: str, wait: float) -> list:  # type: ignore[type-arg]
    reader = AIOKafkaConsumer(kafka_topic(f"{TOPIC}.dlq"), bootstrap_servers=kafka, group_id=f"dlq-{uuid.uuid4().hex}",
                              auto_offset_reset="earliest")
    await reader.start()
    found = []
    try:
        end = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < end:
            batch = await reader.getmany(timeout_ms=500)
            found += [r for records in batch.values() for r in records if r.key == key.encode()]
    finally:
        await reader.stop()
    return found


@pytest.fixture
async def producer(kafka: str):  # type: ignore[no-untyped-def]
    producer = PrefixedProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    yield producer
    await producer.stop()


async def run_until(consumer: EventConsumer, done):  # type: ignore[no-untyped-def]
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(45):
            while not await done():
                assert not task.done(), task
                await asyncio.sleep(0.2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_lost_connection_is_retried_in_order_and_never_dead_lettered(db: Database, kafka: str,
                                                                           producer: AIOKafkaProducer) -> None:
    run = uuid.uuid4().hex[:8]
    failures_left = {"first": 3}
    seen_health: list[dict] = []  # type: ignore[type-arg]

    async def handle(session: AsyncSession, event: dict) -> None:  # type: ignore[type-arg]
        name = event["data"]["name"]
        if name.endswith("first") and failures_left["first"] > 0:
            failures_left["first"] -= 1
            # a real lost connection: the server ends this backend, as a restart would
            await session.exec(text("SELECT pg_terminate_backend(pg_backend_pid())"))  # type: ignore[call-overload]
        session.add(Widget(name=name))

    consumer = EventConsumer(db, bootstrap_servers=kafka, group_id=f"kit-test-{run}", handlers={TOPIC: handle},
                             dlq_producer=producer, backoff=Backoff(initial=0.05, cap=0.3))
    for name in ("first", "second", "third"):
        event = cloud_event(source="kit", topic=TOPIC, subject=run, data={"name": f"{run}-{name}"})
        await producer.send_and_wait(TOPIC, json.dumps(event).encode(), key=run.encode())

    async def done() -> bool:
        if consumer.health()["retrying"]:
            seen_health.append(consumer.health())
        return len(await names_in_order(db, run)) == 3

    await run_until(consumer, done)
    assert await names_in_order(db, run) == [f"{run}-first", f"{run}-second", f"{run}-third"]
    assert failures_left["first"] == 0
    assert seen_health and seen_health[0]["retrying"][0]["topic"] == TOPIC
    assert await dead_letters(kafka, run, wait=2) == []


async def test_poison_goes_to_the_dlq_with_the_class_only_and_the_partition_moves_on(
        db: Database, kafka: str, producer: AIOKafkaProducer) -> None:
    run = uuid.uuid4().hex[:8]

    async def handle(session: AsyncSession, event: dict) -> None:  # type: ignore[type-arg]
        if event["data"].get("refuse"):
            raise PoisonEvent(f"household of 张三 {event['data']['refuse']} refused")
        session.add(Widget(name=event["data"]["name"]))

    consumer = EventConsumer(db, bootstrap_servers=kafka, group_id=f"kit-test-{run}", handlers={TOPIC: handle},
                             dlq_producer=producer, backoff=Backoff(initial=0.05, cap=0.3))
    poison = cloud_event(source="kit", topic=TOPIC, subject=run, data={"refuse": "110101199001011234"})
    for message in (poison, b"not json", cloud_event(source="kit", topic=TOPIC, subject=run,
                                                       data={"name": f"{run}-after"})):
        value = message if isinstance(message, bytes) else json.dumps(message).encode()
        await producer.send_and_wait(TOPIC, value, key=run.encode())

    async def done() -> bool:
        return bool(await names_in_order(db, run))

    await run_until(consumer, done)
    dead = await dead_letters(kafka, run, wait=3)
    assert [dict(d.headers)["error"] for d in dead] == [b"PoisonEvent", b"JSONDecodeError"]
    assert all(b"110101" not in value for d in dead for value in dict(d.headers).values())
    assert json.loads(dead[0].value)["id"] == poison["id"]


async def test_lock_timeout_is_transient(db: Database) -> None:
    """A lock wait past `lock_timeout` (another transaction holds the row) is retried, not dead-lettered."""
    async with db.session() as session:
        widget = Widget(name=f"locked-{uuid.uuid4().hex[:8]}")
        session.add(widget)
        await session.commit()
    async with db.session() as holder, db.session() as waiter:
        await holder.exec(text("SELECT * FROM widgets WHERE id = :i FOR UPDATE").bindparams(i=widget.id))  # type: ignore[call-overload]
        await waiter.exec(text("SET LOCAL lock_timeout = '100ms'"))  # type: ignore[call-overload]
        with pytest.raises(Exception) as raised:
            await waiter.exec(text("SELECT * FROM widgets WHERE id = :i FOR UPDATE").bindparams(i=widget.id))  # type: ignore[call-overload]
    assert classify(raised.value) is Failure.TRANSIENT


def test_classification_of_plain_errors() -> None:
    assert classify(ConnectionRefusedError()) is Failure.TRANSIENT
    assert classify(KeyError("members")) is Failure.CONTENT
    assert classify(PoisonEvent("x")) is Failure.CONTENT
    assert classify(RuntimeError("bug")) is Failure.UNKNOWN
    try:
        try:
            raise ConnectionResetError()
        except ConnectionResetError as exc:
            raise ValueError("while reconnecting") from exc
    except ValueError as wrapped:
        assert classify(wrapped) is Failure.TRANSIENT
