"""Write an event in the same transaction as the change it announces."""

import uuid
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.events.envelope import cloud_event
from fupin_kit.events.models import OutboxEvent

NOTIFY_CHANNEL = "fupin_outbox"


async def enqueue(session: AsyncSession, *, source: str, topic: str, subject: str,
                  data: dict[str, Any]) -> dict[str, Any]:
    """Stage a CloudEvent; it is published if and only if the surrounding transaction commits."""
    event_id = uuid.uuid4()
    payload = cloud_event(source=source, topic=topic, subject=subject, data=data, event_id=event_id)
    session.add(OutboxEvent(event_id=event_id, topic=topic, key=subject, payload=payload))
    # NOTIFY is delivered at commit only, so the relay wakes exactly when there is something to send.
    await session.exec(select(func.pg_notify(NOTIFY_CHANNEL, "")))
    return payload
