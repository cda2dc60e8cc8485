"""Write an event in the same transaction as the change it announces."""

import datetime as dt
import os
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit import telemetry
from fupin_kit.events.envelope import cloud_event, envelope, jsonable
from fupin_kit.events.models import OutboxEvent

NOTIFY_CHANNEL = "fupin_outbox"
_COPY_COLUMNS = ("event_id", "topic", "key", "payload")


async def enqueue(session: AsyncSession, *, source: str, topic: str, subject: str,
                  data: dict[str, Any]) -> dict[str, Any]:
    """Stage a CloudEvent; it is published if and only if the surrounding transaction commits. The current trace
    context is saved with it (the envelope's `traceparent`), so the relay and the consumers continue the trace."""
    event_id = uuid.uuid4()
    payload = cloud_event(source=source, topic=topic, subject=subject, data=data, event_id=event_id,
                          traceparent=telemetry.current_traceparent())
    session.add(OutboxEvent(event_id=event_id, topic=topic, key=subject, payload=payload))
    # NOTIFY is delivered at commit only, so the relay wakes exactly when there is something to send.
    await session.exec(select(func.pg_notify(NOTIFY_CHANNEL, "")))
    return payload


async def copy_events(conn: asyncpg.Connection, events: Sequence[tuple[str, str, dict[str, Any]]], *,
                      source: str, json_ready: bool = False) -> int:
    """Stage many CloudEvents at once, each `(topic, subject, data)`, with one COPY into the outbox (for bulk writers
    on a raw asyncpg connection). Like `enqueue`, run it inside the caller's transaction: the events are published
    if and only if it commits, and the relay is woken (NOTIFY) at commit. Returns the number of events staged.

    `json_ready=True`: each `data` is JSON-safe already (a payload model's `model_dump(mode="json")`), so it is not
    converted again (for a batch of thousands, that conversion was a third of its Python time).

    The events of one call share its time (they are staged in one transaction), and their text is written by
    orjson: 11-12 µs per event against 39-41 µs with an envelope, a clock read and `json.dumps` each (100,000
    `benefit-due` events)."""
    records = []
    traceparent = telemetry.current_traceparent()
    time = dt.datetime.now(dt.UTC).isoformat()
    randomness = os.urandom(16 * len(events))  # one system call for every event id, not one each
    for i, (topic, subject, data) in enumerate(events):
        event_id = uuid.UUID(bytes=randomness[16 * i:16 * i + 16], version=4)
        payload = envelope(source=source, topic=topic, subject=subject, data=data if json_ready else jsonable(data),
                           event_id=event_id, time=time, traceparent=traceparent)
        records.append((event_id, topic, subject, orjson.dumps(payload).decode()))
    if records:
        await conn.copy_records_to_table(OutboxEvent.__tablename__, columns=_COPY_COLUMNS, records=records)
        await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    return len(records)
