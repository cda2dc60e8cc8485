"""`fupin-dlq`: a dead-lettered event is listed masked, replayed through the normal consumer path once it can be
processed, and a second replay is dropped by the inbox (on the isolated stack's broker and database)."""

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_dev import config
from fupin_dev.dlq import mask, read_dead_letters, replay
from fupin_kit.db import Database
from fupin_kit.events.consumer import Backoff, EventConsumer, PoisonEvent
from fupin_kit.events.envelope import cloud_event
from fupin_kit.events.relay import build_producer
from fupin_kit.testing import ensure_topics, recreate_database

pytestmark = pytest.mark.usefixtures("isolated_stack")
TOPIC = "faults-dlq-replay"


def test_masking_hides_personal_fields_and_id_numbers() -> None:
    masked = mask({"household_id": "h1", "members": [{"person_ref": "abc", "birth_date": "2004-01-01",
                                                      "relation": "child"}],
                   "note": "from 610725200401010016 and 610725********0016"})
    assert masked["members"] == [{"person_ref": "***", "birth_date": "***", "relation": "child"}]
    assert masked["household_id"] == "h1" and "6107252004" not in masked["note"] and "0016" not in masked["note"]


async def test_a_replay_goes_through_the_consumer_and_the_inbox_keeps_it_once() -> None:
    server = f"postgresql://postgres@127.0.0.1:{config.pg_port()}/postgres"
    await recreate_database(server, "faults_dlq")
    conn = await asyncpg.connect(server.rsplit("/", 1)[0] + "/faults_dlq")
    await conn.execute("CREATE TABLE inbox (event_id varchar PRIMARY KEY, topic varchar NOT NULL, "
                       "received_at timestamptz NOT NULL DEFAULT now()); CREATE TABLE done (event_id varchar)")
    bootstrap = config.kafka_bootstrap()
    await ensure_topics(bootstrap, [TOPIC, f"{TOPIC}.dlq"])
    refusing = {"now": True}

    async def handle(session: AsyncSession, event: dict[str, Any]) -> None:
        if refusing["now"]:
            raise PoisonEvent("a rule refuses it (until the operator fixed the rule)")
        await session.exec(text("INSERT INTO done VALUES (:i)").bindparams(i=event["id"]))  # type: ignore[call-overload]

    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{config.pg_port()}/faults_dlq")
    producer = build_producer(bootstrap)
    await producer.start()
    consumer = EventConsumer(db, bootstrap_servers=bootstrap, group_id=f"faults-{uuid.uuid4().hex[:6]}",
                             handlers={TOPIC: handle}, dlq_producer=producer, backoff=Backoff(0.05, 0.5))
    task = asyncio.create_task(consumer.run())
    try:
        event = cloud_event(source="faults", topic=TOPIC, subject="s1", data={"person_ref": "abc"})
        await producer.send_and_wait(TOPIC, json.dumps(event).encode(), key=b"s1")

        async def dead() -> list[Any]:
            return [d for d in await read_dead_letters(bootstrap, [f"{TOPIC}.dlq"], include_replayed=False)
                    if d.event.get("id") == event["id"]]

        async with asyncio.timeout(60):
            while not (letters := await dead()):
                await asyncio.sleep(0.5)
        assert letters[0].headers["error"] == "PoisonEvent" and letters[0].original_topic == TOPIC
        refusing["now"] = False
        assert await replay(bootstrap, letters, mark=True) == 1
        async with asyncio.timeout(60):
            while await conn.fetchval("SELECT count(*) FROM done") == 0:
                await asyncio.sleep(0.3)
        assert await dead() == []  # replayed: no longer pending
        await replay(bootstrap, letters, mark=False)  # an operator replays it again by mistake
        await asyncio.sleep(3)
        assert await conn.fetchval("SELECT count(*) FROM done") == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
        await db.dispose()
        await conn.close()
