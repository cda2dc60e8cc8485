"""Registry events → the person read model. Events about households this service never heard of are normal."""

import datetime as dt
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import HouseholdSnapshot
from medical.persons.service import apply_household_snapshot

HOUSEHOLD_TOPICS = ("household-registered", "exit-certified", "returned-to-poverty", "household-removed")


async def on_household_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Upsert the snapshot; a malformed one raises and goes to the topic's DLQ after the kit's retries."""
    snapshot = HouseholdSnapshot.model_validate(event["data"])
    occurred_at = snapshot.occurred_at or dt.datetime.fromisoformat(event["time"])
    if occurred_at.tzinfo is None:
        occurred_at = occurred_at.replace(tzinfo=dt.UTC)
    await apply_household_snapshot(session, snapshot=snapshot, occurred_at=occurred_at)


HANDLERS = {topic: on_household_event for topic in HOUSEHOLD_TOPICS}
