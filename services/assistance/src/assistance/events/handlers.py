"""Consumers (contract §7): the household topics, `division-updated`, `division-exited`, `payment-completed`.

Each handler runs in one transaction with the kit's inbox row (at most once per event id). A payload that does not
parse raises ValidationError and is dead-lettered; a transient failure is retried by the kit.
"""

import logging
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from assistance.helpers import service as helpers
from assistance.readmodels import service as readmodels
from fupin_events.payloads import DivisionExited, DivisionUpdated, PaymentCompleted
from fupin_kit.clock import china_date, event_time

log = logging.getLogger("assistance.events")
HOUSEHOLD_TOPICS = ("household-registered", "exit-certified", "returned-to-poverty", "household-removed")


def _handler_for(topic: str) -> Any:
    async def on_household_event(session: AsyncSession, event: dict[str, Any]) -> None:
        snapshot = readmodels.HouseholdFacts.model_validate(event["data"])
        at = event_time(event)
        applied = await readmodels.apply_household(session, snapshot=snapshot, topic=topic,
                                                   event_id=str(event["id"]), at=at)
        if not applied:
            log.info("stale household snapshot kept in history only",
                     extra={"fields": {"household_id": str(snapshot.household_id)}})
        if topic == "household-removed":
            await helpers.release_on_removal(session, household_id=str(snapshot.household_id),
                                             ended_on=china_date(at))

    return on_household_event


async def on_division_updated(session: AsyncSession, event: dict[str, Any]) -> None:
    await readmodels.apply_division(session, division=DivisionUpdated.model_validate(event["data"]),
                                    at=event_time(event))


async def on_division_exited(session: AsyncSession, event: dict[str, Any]) -> None:
    await readmodels.apply_division_exit(session, exited=DivisionExited.model_validate(event["data"]),
                                         event_id=str(event["id"]), at=event_time(event))


async def on_payment_completed(session: AsyncSession, event: dict[str, Any]) -> None:
    await readmodels.apply_payment(session, payment=PaymentCompleted.model_validate(event["data"]),
                                   at=event_time(event))


HANDLERS: dict[str, Any] = {
    **{topic: _handler_for(topic) for topic in HOUSEHOLD_TOPICS},
    "division-updated": on_division_updated,
    "division-exited": on_division_exited,
    "payment-completed": on_payment_completed,
}
