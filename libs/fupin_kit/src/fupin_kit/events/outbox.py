"""Write an event in the same transaction as the change it announces."""

import json
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit import telemetry
from fupin_kit.events.envelope import cloud_event
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
                      source: str) -> int:
    """Stage many CloudEvents at once, each `(topic, subject, data)`, with one COPY into the outbox (for bulk writers
    on a raw asyncpg connection). Like `enqueue`, run it inside the caller's transaction: the events are published
    if and only if it commits, and the relay is woken (NOTIFY) at commit. Returns the number of events staged."""
    records = []
    traceparent = telemetry.current_traceparent()
    for topic, subject, data in events:
        event_id = uuid.uuid4()
        payload = cloud_event(source=source, topic=topic, subject=subject, data=data, event_id=event_id,
                              traceparent=traceparent)
        records.append((event_id, topic, subject, json.dumps(payload, ensure_ascii=False)))
    if records:
        await conn.copy_records_to_table(OutboxEvent.__tablename__, columns=_COPY_COLUMNS, records=records)
        await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    return len(records)
