"""Batch handlers: a poll batch per partition in one transaction (inbox rows in bulk), on the real PostgreSQL server
and Kafka broker. Doubles are dropped, offset order is kept, a poison event is dead-lettered alone, a transient
failure retries the batch in order, and the offset is committed only after the database commit."""

import asyncio
import json
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from conftest import Widget
from sqlalchemy import insert, select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.db import Database
from fupin_kit.events.consumer import Backoff, BatchHandler, EventConsumer, PoisonEvent
from fupin_kit.events.envelope import cloud_event
from fupin_kit.events.topics import kafka_topic
from fupin_kit.testing import PrefixedProducer, skip_history

TOPIC = "kit-test-consumed"


async def names_in_order(db: Database, prefix: str) -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(Widget.name).where(Widget.name.startswith(prefix))  # type: ignore[attr-defined]
                                   .order_by(Widget.id))).all()
    return [r[0] for r in rows]


async def dead_letters(kafka: str, key: str, wait: float) -> list[Any]:
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


async def committed(kafka: str, group: str) -> int | None:
    reader = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        return await reader.committed(TopicPartition(kafka_topic(TOPIC), 0))  # type: ignore[no-any-return]
    finally:
        await reader.stop()


async def end_offset(kafka: str) -> int:
    reader = AIOKafkaConsumer(bootstrap_servers=kafka)
    await reader.start()
    try:
        tp = TopicPartition(kafka_topic(TOPIC), 0)
        return int((await reader.end_offsets([tp]))[tp])
    finally:
        await reader.stop()


@pytest.fixture
async def producer(kafka: str):  # type: ignore[no-untyped-def]
    producer = PrefixedProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    yield producer
    await producer.stop()


class Recorder:
    """A batch handler adding one widget per event of this run (others on the shared topic are ignored)."""

    def __init__(self, run: str) -> None:
        self.run = run
        self.batches: list[int] = []
        self.fail_first: list[str] = []  # transient failures to raise, one per batch call

    def prepare(self, event: dict[str, Any]) -> dict[str, Any] | None:
        if event.get("subject") != self.run:
            return None
        if event["data"].get("malformed"):
            raise KeyError("name")
        return dict(event["data"])

    async def apply(self, session: AsyncSession, prepared: Sequence[dict[str, Any] | None]) -> None:
        mine = [p for p in prepared if p is not None]
        if not mine:
            return
        self.batches.append(len(mine))
        if self.fail_first:
            self.fail_first.pop()
            await session.exec(text("SELECT pg_terminate_backend(pg_backend_pid())"))  # type: ignore[call-overload]
        if any(p.get("refuse") for p in mine):
            raise PoisonEvent("refused")
        await session.exec(insert(Widget).values([{"name": p["name"]} for p in mine]))  # type: ignore[call-overload]

    def handler(self, max_records: int = 0) -> BatchHandler[dict[str, Any] | None]:
        return BatchHandler(self.prepare, self.apply, max_records=max_records)


async def publish(producer: AIOKafkaProducer, run: str, messages: list[dict[str, Any] | bytes]) -> None:
    sends = [await producer.send(TOPIC, m if isinstance(m, bytes) else json.dumps(m).encode(), key=run.encode())
             for m in messages]
    for send in sends:
        await send


async def consume_until(consumer: EventConsumer, done, seen=None) -> None:  # type: ignore[no-untyped-def]
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(45):
            while not await done():
                assert not task.done(), task
                if seen is not None:
                    await seen()
                await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def event(run: str, **data: Any) -> dict[str, Any]:
    return cloud_event(source="kit", topic=TOPIC, subject=run, data=data)


async def test_a_batch_is_applied_once_in_order_and_a_poison_event_goes_alone_to_the_dlq(
        db: Database, kafka: str, producer: AIOKafkaProducer) -> None:
    run, group = uuid.uuid4().hex[:8], f"kit-test-{uuid.uuid4().hex[:8]}"
    await skip_history(kafka, group, [TOPIC])
    recorder = Recorder(run)
    first = [event(run, name=f"{run}-{i:03d}") for i in range(40)]
    poison, malformed = event(run, refuse=True), event(run, malformed=True)
    second = [event(run, name=f"{run}-{i:03d}") for i in range(40, 80)]
    consumer = EventConsumer(db, bootstrap_servers=kafka, group_id=group, handlers={TOPIC: recorder.handler()},
                             dlq_producer=producer, backoff=Backoff(initial=0.05, cap=0.3))
    task = asyncio.create_task(consumer.run())
    try:
        # doubles inside the batch
        await publish(producer, run, [*first, first[3], first[3]])
        await until(lambda: applied(db, run, 40, kafka, group), task)
        assert max(recorder.batches) > 1  # applied as batches, not one by one
        # a poison event and a malformed one among their batch-mates; a double of an earlier batch
        await publish(producer, run, [poison, *second[:10], malformed, b"not json", *second[10:], first[0]])
        await until(lambda: applied(db, run, 80, kafka, group), task)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await names_in_order(db, f"{run}-") == [f"{run}-{i:03d}" for i in range(80)]  # each once, in order
    dead = await dead_letters(kafka, run, wait=2)
    assert [dict(d.headers)["error"] for d in dead] == [b"PoisonEvent", b"KeyError", b"JSONDecodeError"]
    assert json.loads(dead[0].value)["id"] == poison["id"]


async def applied(db: Database, run: str, count: int, kafka: str, group: str) -> bool:
    return len(await names_in_order(db, f"{run}-")) >= count and await committed(kafka, group) == await end_offset(
        kafka)


async def until(done, task: asyncio.Task[None]) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(45):
        while not await done():
            assert not task.done(), task
            await asyncio.sleep(0.1)


async def test_a_redelivered_batch_applies_nothing_again(db: Database, kafka: str) -> None:
    run = uuid.uuid4().hex[:8]
    recorder = Recorder(run)
    consumer = EventConsumer(db, bootstrap_servers=kafka, group_id=f"kit-test-{run}",
                             handlers={TOPIC: recorder.handler()}, dlq_producer=None)  # type: ignore[arg-type]
    records = [Record(json.dumps(event(run, name=f"{run}-{i}")).encode(), i) for i in range(5)]
    assert await consumer.process_batch(TOPIC, records, recorder.handler()) is None  # type: ignore[arg-type]
    assert await consumer.process_batch(TOPIC, records, recorder.handler()) is None  # type: ignore[arg-type]
    assert await names_in_order(db, f"{run}-") == [f"{run}-{i}" for i in range(5)]
    assert recorder.batches == [5]


class Record:
    def __init__(self, value: bytes, offset: int) -> None:
        self.value, self.offset, self.partition, self.topic = value, offset, 0, TOPIC
        self.key: bytes | None = None


async def test_a_transient_failure_retries_the_batch_in_order_and_the_offset_waits_for_the_commit(
        db: Database, kafka: str, producer: AIOKafkaProducer) -> None:
    run, group = uuid.uuid4().hex[:8], f"kit-test-{uuid.uuid4().hex[:8]}"
    await skip_history(kafka, group, [TOPIC])
    start = await committed(kafka, group)
    recorder = Recorder(run)
    recorder.fail_first = ["lost", "lost"]  # the connection is lost twice, inside the batch's transaction
    await publish(producer, run, [event(run, name=f"{run}-{i:02d}") for i in range(30)])
    consumer = EventConsumer(db, bootstrap_servers=kafka, group_id=group, handlers={TOPIC: recorder.handler()},
                             dlq_producer=producer, backoff=Backoff(initial=1.0, cap=1.0))
    offsets_while_retrying: list[int | None] = []

    async def seen() -> None:
        if consumer.health()["retrying"] and not await names_in_order(db, f"{run}-"):
            offset = await committed(kafka, group)
            if not await names_in_order(db, f"{run}-"):  # read before the batch's commit, so before its offset's
                offsets_while_retrying.append(offset)

    async def done() -> bool:
        return len(await names_in_order(db, f"{run}-")) == 30 and await committed(kafka, group) == await end_offset(
            kafka)

    await consume_until(consumer, done, seen)
    assert await names_in_order(db, f"{run}-") == [f"{run}-{i:02d}" for i in range(30)]
    assert recorder.fail_first == []
    assert offsets_while_retrying and set(offsets_while_retrying) == {start}  # nothing committed before the data
    assert await dead_letters(kafka, run, wait=1) == []


async def test_a_subscription_sets_its_batch_size_and_the_poll_is_at_least_that(
        db: Database, kafka: str, producer: AIOKafkaProducer) -> None:
    run, group = uuid.uuid4().hex[:8], f"kit-test-{uuid.uuid4().hex[:8]}"
    await skip_history(kafka, group, [TOPIC])
    recorder = Recorder(run)
    small = EventConsumer(db, bootstrap_servers=kafka, group_id=group, handlers={TOPIC: recorder.handler(7)},
                          dlq_producer=producer)
    large = EventConsumer(db, bootstrap_servers=kafka, group_id=group, handlers={TOPIC: recorder.handler(2000)},
                          dlq_producer=producer, max_records=100)
    assert (small.max_records, large.max_records) == (200, 2000)  # the default poll, or the largest batch
    await publish(producer, run, [event(run, name=f"{run}-{i:02d}") for i in range(30)])

    async def done() -> bool:
        return len(await names_in_order(db, f"{run}-")) == 30 and await committed(kafka, group) == await end_offset(
            kafka)

    await consume_until(small, done)
    assert await names_in_order(db, f"{run}-") == [f"{run}-{i:02d}" for i in range(30)]
    assert max(recorder.batches) == 7 and sum(recorder.batches) == 30


async def test_a_refused_batch_is_bisected_so_its_good_records_still_go_in_batches(
        db: Database, kafka: str, producer: AIOKafkaProducer) -> None:
    run = uuid.uuid4().hex[:8]
    recorder = Recorder(run)
    handler = recorder.handler()
    consumer = EventConsumer(db, bootstrap_servers=kafka, group_id=f"kit-test-{run}", handlers={TOPIC: handler},
                             dlq_producer=producer, backoff=Backoff(initial=0.05, cap=0.1))
    names = [event(run, name=f"{run}-{i:02d}") for i in range(64)]
    poison = event(run, refuse=True)
    records = [Record(json.dumps(e).encode(), i) for i, e in enumerate([*names[:37], poison, *names[37:]])]
    for record in records:  # as the broker gives them
        record.topic, record.key = kafka_topic(TOPIC), run.encode()
    done, held = await consumer._apply_in_batches(TOPIC, handler, records)  # type: ignore[arg-type]
    assert (done, held) == (records[-1], None)
    assert await names_in_order(db, f"{run}-") == [f"{run}-{i:02d}" for i in range(64)]
    # 65 records, the poison at 37: the batches holding it fail as they halve (65, 33, 16, 8, 4, 2), their other
    # halves go in (32, 4, 2, 8, 17), the poison's last neighbour and the poison alone (then the DLQ): 13
    # transactions, not 65 one by one
    assert recorder.batches == [65, 32, 33, 16, 8, 4, 4, 2, 1, 1, 2, 8, 17]
    dead = await dead_letters(kafka, run, wait=2)
    assert [json.loads(d.value)["id"] for d in dead] == [poison["id"]]


async def test_partitions_take_turns_so_a_topic_handled_one_by_one_does_not_starve_the_others(
        db: Database, kafka: str, producer: AIOKafkaProducer) -> None:
    run, group, slow_topic = uuid.uuid4().hex[:8], f"kit-test-{uuid.uuid4().hex[:8]}", "kit-test-events"
    await skip_history(kafka, group, [TOPIC, slow_topic])
    recorder, slow_handled = Recorder(run), []

    async def slow(session: AsyncSession, event: dict[str, Any]) -> None:  # one by one, 20 ms each
        await asyncio.sleep(0.02)
        if event.get("subject") == run:
            slow_handled.append(event["id"])

    sends = [await producer.send(slow_topic, json.dumps(event(run, n=i)).encode(), key=run.encode())
             for i in range(300)]
    for send in sends:
        await send
    consumer = EventConsumer(db, bootstrap_servers=kafka, group_id=group, dlq_producer=producer,
                             handlers={TOPIC: recorder.handler(), slow_topic: slow}, max_records=1000)
    published_at: list[int] = []  # how many slow events were handled when the others were published
    handled_at: list[int] = []  # and when the others were all applied

    async def done() -> bool:
        if not published_at and len(slow_handled) >= 20:  # the slow topic's backlog is being handled
            published_at.append(len(slow_handled))
            await publish(producer, run, [event(run, name=f"{run}-{i:02d}") for i in range(20)])
        if not handled_at and len(await names_in_order(db, f"{run}-")) == 20:
            handled_at.append(len(slow_handled))
        return len(slow_handled) == 300 and bool(handled_at)

    await consume_until(consumer, done)
    # the other topic's turn came after at most a turn of the slow one (100 records), not after its backlog
    assert handled_at[0] - published_at[0] <= 150, (published_at, handled_at)
    assert await names_in_order(db, f"{run}-") == [f"{run}-{i:02d}" for i in range(20)]


async def test_after_a_burst_the_consumer_gives_free_memory_back_once_nothing_is_left(
        db: Database, kafka: str, producer: AIOKafkaProducer, monkeypatch: pytest.MonkeyPatch) -> None:
    """`BURST_RECORDS` taken, then a poll with nothing left: the allocator's free pages go back (`release_memory`);
    never before a burst's worth of records was taken."""
    from fupin_kit.events import consumer as consumer_module

    run, group = uuid.uuid4().hex[:8], f"kit-test-{uuid.uuid4().hex[:8]}"
    await skip_history(kafka, group, [TOPIC])
    recorder = Recorder(run)
    released: list[int] = []
    monkeypatch.setattr(consumer_module, "BURST_RECORDS", 20)
    monkeypatch.setattr(consumer_module, "release_memory", lambda: released.append(sum(recorder.batches)))
    consumer = EventConsumer(db, bootstrap_servers=kafka, group_id=group, handlers={TOPIC: recorder.handler(7)},
                             dlq_producer=producer)
    await publish(producer, run, [event(run, name=f"{run}-{i:02d}") for i in range(30)])

    async def done() -> bool:
        return len(await names_in_order(db, f"{run}-")) == 30 and bool(released)

    await consume_until(consumer, done)
    assert all(applied >= 20 for applied in released)  # never before a burst's worth was taken
