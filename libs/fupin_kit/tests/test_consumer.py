"""Redelivery is harmless (inbox by event id); a failing message goes to the DLQ and the partition moves on."""

import asyncio
import json
import uuid

from aiokafka import AIOKafkaConsumer
from conftest import Widget
from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.db import Database
from fupin_kit.events.consumer import EventConsumer
from fupin_kit.events.envelope import cloud_event
from fupin_kit.events.topics import kafka_topic
from fupin_kit.testing import PrefixedProducer

TOPIC = "kit-test-consumed"


async def widgets_named(db: Database, name: str) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(Widget).where(Widget.name == name))).one()[0]


async def test_duplicate_delivery_is_handled_once_and_poison_goes_to_dlq(db: Database, kafka: str) -> None:
    run = uuid.uuid4().hex[:8]

    async def handle(session: AsyncSession, event: dict) -> None:
        if event["data"].get("poison"):
            raise ValueError("cannot handle this")
        session.add(Widget(name=event["data"]["name"]))

    producer = PrefixedProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    consumer = EventConsumer(db, bootstrap_servers=kafka, group_id=f"kit-test-{run}", handlers={TOPIC: handle},
                             dlq_producer=producer, attempts=2)
    task = asyncio.create_task(consumer.run())
    try:
        event = cloud_event(source="kit", topic=TOPIC, subject=run, data={"name": f"w-{run}"})
        poison = cloud_event(source="kit", topic=TOPIC, subject=run, data={"poison": True})
        after = cloud_event(source="kit", topic=TOPIC, subject=run, data={"name": f"after-{run}"})
        for message in (event, event, poison, after, event):
            await producer.send_and_wait(TOPIC, json.dumps(message).encode(), key=run.encode())
        async with asyncio.timeout(30):
            while await widgets_named(db, f"after-{run}") == 0:
                await asyncio.sleep(0.2)
        assert await widgets_named(db, f"w-{run}") == 1
        dead = await _first_dead_letter(kafka, kafka_topic(f"{TOPIC}.dlq"), run)
        assert json.loads(dead.value)["id"] == poison["id"]
        headers = dict(dead.headers)
        assert headers["error"] == b"ValueError"  # the class only: the text may quote personal data
        assert headers["consumer"] == f"kit-test-{run}".encode() and headers["topic"] == kafka_topic(TOPIC).encode()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()


async def _first_dead_letter(kafka: str, topic: str, key: str):  # type: ignore[no-untyped-def]
    reader = AIOKafkaConsumer(topic, bootstrap_servers=kafka, group_id=f"dlq-{uuid.uuid4().hex}",
                              auto_offset_reset="earliest")
    await reader.start()
    try:
        async with asyncio.timeout(20):
            async for record in reader:
                if record.key == key.encode():
                    return record
    finally:
        await reader.stop()
