"""Consumers of the registry's household events (registered, exit-certified, returned, removed)."""

import datetime as dt
import logging
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import HouseholdSnapshot
from microcredit.households.service import apply_snapshot

log = logging.getLogger("microcredit.households")

HOUSEHOLD_TOPICS = ("household-registered", "exit-certified", "returned-to-poverty", "household-removed")


async def on_household_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Upsert the snapshot; a malformed payload raises, so the kit retries and then dead-letters it."""
    snapshot = HouseholdSnapshot.model_validate(event["data"])
    occurred_at = snapshot.occurred_at or dt.datetime.fromisoformat(str(event["time"]))
    if occurred_at.tzinfo is None:
        occurred_at = occurred_at.replace(tzinfo=dt.UTC)
    if not await apply_snapshot(session, snapshot=snapshot, occurred_at=occurred_at):
        log.info("stale household snapshot skipped", extra={"fields": {"household_id": str(snapshot.household_id)}})


HANDLERS = {topic: on_household_event for topic in HOUSEHOLD_TOPICS}
