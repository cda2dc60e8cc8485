"""Bulk staging with COPY: CloudEvents in the kit's envelope, published if and only if the transaction commits,
the relay woken at commit."""

import asyncio
import datetime as dt
import json
import uuid
from decimal import Decimal

import asyncpg

from fupin_kit.db import Database, asyncpg_dsn
from fupin_kit.events.outbox import NOTIFY_CHANNEL, copy_events
from fupin_kit.events.relay import OutboxRelay, build_producer
from fupin_kit.testing import wait_for_event

TOPIC = "kit-test-events"


async def outbox_rows(conn: asyncpg.Connection, subjects: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT event_id, topic, key, payload, sent_at FROM outbox WHERE key = ANY($1::text[]) "
                            "ORDER BY id", subjects)


async def test_copied_events_are_cloudevents_staged_and_notified_at_commit(db: Database, kafka: str) -> None:
    subjects = [uuid.uuid4().hex for _ in range(3)]
    notified: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(asyncpg_dsn(db.url))
    conn = await asyncpg.connect(asyncpg_dsn(db.url))
    try:
        await listener.add_listener(NOTIFY_CHANNEL, lambda *args: notified.put_nowait(args[1]))
        async with conn.transaction():
            staged = await copy_events(conn, [
                (TOPIC, subjects[0], {"amount": Decimal("12.5"), "on": dt.date(2020, 9, 1)}),
                (TOPIC, subjects[1], {"n": 2}),
                (TOPIC, subjects[2], {"id": uuid.UUID(int=7)}),
            ], source="kit")
            assert staged == 3
            await asyncio.sleep(0.2)
            assert notified.empty()  # NOTIFY is delivered at commit only
        await asyncio.wait_for(notified.get(), timeout=5)

        rows = await outbox_rows(conn, subjects)
        assert [(r["topic"], r["key"]) for r in rows] == [(TOPIC, s) for s in subjects]
        assert all(r["sent_at"] is None for r in rows)
        payloads = [json.loads(r["payload"]) for r in rows]
        for row, payload, subject in zip(rows, payloads, subjects, strict=True):
            assert payload["specversion"] == "1.0" and payload["source"] == "kit"
            assert payload["id"] == str(row["event_id"]) and payload["subject"] == subject
            assert payload["type"] == f"cn.fupin.{row['topic']}"
            assert payload["datacontenttype"] == "application/json" and payload["time"]
        assert payloads[0]["data"] == {"amount": "12.50", "on": "2020-09-01"}
        assert payloads[2]["data"] == {"id": str(uuid.UUID(int=7))}
        assert len({p["id"] for p in payloads}) == 3
    finally:
        await listener.close()
        await conn.close()

    producer = build_producer(kafka)
    await producer.start()
    try:
        while await OutboxRelay(db, producer, component="kit").publish_batch():
            pass
    finally:
        await producer.stop()
    event = await wait_for_event(kafka, TOPIC, subjects[1])
    assert event["id"] == payloads[1]["id"] and event["data"] == {"n": 2}


async def test_rolled_back_copy_leaves_no_event_and_empty_copy_does_nothing(db: Database) -> None:
    subject = uuid.uuid4().hex
    conn = await asyncpg.connect(asyncpg_dsn(db.url))
    try:
        transaction = conn.transaction()
        await transaction.start()
        assert await copy_events(conn, [(TOPIC, subject, {"n": 1})], source="kit") == 1
        await transaction.rollback()
        assert await outbox_rows(conn, [subject]) == []
        before = await conn.fetchval("SELECT count(*) FROM outbox")
        assert await copy_events(conn, [], source="kit") == 0
        assert await conn.fetchval("SELECT count(*) FROM outbox") == before
    finally:
        await conn.close()


async def test_json_ready_data_is_staged_as_given(db: Database) -> None:
    """`json_ready=True` (a payload model's JSON dump) skips the conversion; the envelope is the same."""
    subjects = [uuid.uuid4().hex for _ in range(2)]
    conn = await asyncpg.connect(asyncpg_dsn(db.url))
    transaction = conn.transaction()
    await transaction.start()
    try:
        await copy_events(conn, [(TOPIC, subjects[0], {"amount": "12.50", "ids": ["a"]}),
                                 (TOPIC, subjects[1], {"n": None})], source="kit", json_ready=True)
        rows = await outbox_rows(conn, subjects)
        payloads = [json.loads(r["payload"]) for r in rows]
        assert [p["data"] for p in payloads] == [{"amount": "12.50", "ids": ["a"]}, {"n": None}]
        assert [p["id"] for p in payloads] == [str(r["event_id"]) for r in rows]
        assert len({p["id"] for p in payloads}) == 2 and all(uuid.UUID(p["id"]).version == 4 for p in payloads)
        assert all(p["specversion"] == "1.0" and p["type"] == f"cn.fupin.{TOPIC}" for p in payloads)
    finally:
        await transaction.rollback()  # nothing left for other tests' relays
        await conn.close()
