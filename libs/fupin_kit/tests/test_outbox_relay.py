"""An event exists if and only if its change committed; a broker outage delays events and loses none."""

import time
import uuid

import pytest
from conftest import Widget
from sqlalchemy import func, select, text

from fupin_kit.db import Database
from fupin_kit.events.models import OutboxEvent
from fupin_kit.events.outbox import enqueue
from fupin_kit.events.relay import RELAY_LOCK, OutboxRelay, SendTimeout, build_producer
from fupin_kit.testing import wait_for_event

TOPIC = "kit-test-events"


async def unsent_about(db: Database, subject: str) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.key == subject, OutboxEvent.sent_at.is_(None)))).one()[0]  # type: ignore[union-attr]


async def test_rolled_back_change_leaves_no_event(db: Database) -> None:
    subject = uuid.uuid4().hex
    async with db.session() as session:
        session.add(Widget(name="never"))
        await enqueue(session, source="kit", topic=TOPIC, subject=subject, data={"n": 1})
        await session.rollback()
    assert await unsent_about(db, subject) == 0


async def test_committed_event_is_published_as_a_cloudevent(db: Database, kafka: str) -> None:
    subject = uuid.uuid4().hex
    async with db.session() as session:
        session.add(Widget(name="kept"))
        await enqueue(session, source="kit", topic=TOPIC, subject=subject, data={"n": 2})
        await session.commit()
    producer = build_producer(kafka)
    await producer.start()
    try:
        relay = OutboxRelay(db, producer, component="kit")
        while await relay.publish_batch():
            pass
    finally:
        await producer.stop()
    event = await wait_for_event(kafka, TOPIC, subject)
    assert event["specversion"] == "1.0" and event["type"] == f"cn.fupin.{TOPIC}"
    assert event["source"] == "kit" and event["data"] == {"n": 2}
    assert await unsent_about(db, subject) == 0


async def test_broker_outage_keeps_events_until_it_returns(db: Database, kafka: str) -> None:
    subject = uuid.uuid4().hex
    async with db.session() as session:
        await enqueue(session, source="kit", topic=TOPIC, subject=subject, data={"n": 3})
        await session.commit()
    dead = build_producer("127.0.0.1:1")  # nothing listens there: the broker is "down"
    relay = OutboxRelay(db, dead, component="kit")
    try:
        await dead.start()
        await relay.publish_batch()
    except Exception:
        pass
    assert await unsent_about(db, subject) == 1
    producer = build_producer(kafka)
    await producer.start()
    try:
        while await OutboxRelay(db, producer, component="kit").publish_batch():
            pass
    finally:
        await producer.stop()
    assert (await wait_for_event(kafka, TOPIC, subject))["data"] == {"n": 3}


async def test_a_row_too_large_to_publish_is_parked_and_the_rows_after_it_go_out(db: Database, kafka: str) -> None:
    subject = uuid.uuid4().hex
    async with db.session() as session:
        await enqueue(session, source="kit", topic=TOPIC, subject=subject, data={"blob": "x" * 2_000_000})
        await enqueue(session, source="kit", topic=TOPIC, subject=subject, data={"n": 4})
        await session.commit()
    producer = build_producer(kafka)
    await producer.start()
    try:
        relay = OutboxRelay(db, producer, component="kit")
        while await relay.publish_batch():
            pass
    finally:
        await producer.stop()
    assert (await wait_for_event(kafka, TOPIC, subject))["data"] == {"n": 4}
    async with db.session() as session:
        parked = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT last_error FROM outbox WHERE key = :k AND parked_at IS NOT NULL").bindparams(k=subject))).all()
    assert [p[0] for p in parked] == ["MessageSizeTooLargeError"]
    assert await unsent_about(db, subject) == 1  # the parked row: unsent, set aside, not retried


async def test_only_one_relay_is_active_at_a_time(db: Database, kafka: str) -> None:
    producer = build_producer(kafka)
    await producer.start()
    try:
        first, second = OutboxRelay(db, producer, component="kit"), OutboxRelay(db, producer, component="kit")
        async with db.session() as holder:  # the first relay's batch transaction, still open
            assert (await holder.exec(text("SELECT pg_try_advisory_xact_lock(:k)").bindparams(  # type: ignore[call-overload]
                k=RELAY_LOCK))).scalar()
            assert await second.publish_batch() == 0 and not second.active
        await first.publish_batch()
        assert first.active
    finally:
        await producer.stop()


async def test_a_stuck_send_gives_up_in_time_and_releases_the_relay_lock(db: Database, kafka: str) -> None:
    """A producer that cannot deliver (here: a topic the broker does not have, so it waits for metadata) holds the
    relay's transaction and lock at most `send_timeout`; the batch is rolled back, its rows stay unsent."""
    subject = uuid.uuid4().hex
    async with db.session() as session:
        await enqueue(session, source="kit", topic=f"kit-test-missing-{subject}", subject=subject, data={"n": 5})
        await session.commit()
    producer = build_producer(kafka)
    await producer.start()
    try:
        relay = OutboxRelay(db, producer, component="kit", send_timeout=1.0)
        started = time.monotonic()
        with pytest.raises(SendTimeout):
            while await relay.publish_batch():
                pass
        assert time.monotonic() - started < 10
        assert await unsent_about(db, subject) == 1
        async with db.session() as other:  # the lock went with the rolled-back transaction
            assert (await other.exec(text("SELECT pg_try_advisory_xact_lock(:k)").bindparams(  # type: ignore[call-overload]
                k=RELAY_LOCK))).scalar()
    finally:
        await producer.stop()
        async with db.session() as session:  # not left for the other tests' relays to stumble on
            await session.exec(text("UPDATE outbox SET sent_at = now() WHERE key = :k").bindparams(  # type: ignore[call-overload]
                k=subject))
            await session.commit()
