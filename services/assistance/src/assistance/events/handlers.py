"""Consumers (contract §7): the household topics, `division-updated`, `division-exited`, `payment-completed`.

Each handler runs in one transaction with the kit's inbox row (at most once per event id). A payload that does not
parse raises ValidationError and is dead-lettered; a transient failure is retried by the kit.
"""

import datetime as dt
import logging
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from assistance.helpers import service as helpers
from assistance.readmodels import service as readmodels
from assistance.readmodels.models import Household
from fupin_events.payloads import DivisionExited, DivisionUpdated, PaymentCompleted
from fupin_kit.clock import china_date, event_time
from fupin_kit.events.consumer import BatchHandler
from fupin_kit.events.households import Applied, HouseholdReadModel

log = logging.getLogger("assistance.events")


async def after_households(session: AsyncSession, result: Applied) -> None:
    """The history of every household event; a removal releases the household's helpers."""
    await readmodels.record_household_events(session, result)
    for item in result.events:
        if item.topic == "household-removed":
            await helpers.release_on_removal(session, household_id=str(item.household_id),
                                             ended_on=china_date(item.time))


# The kit keeps `households` (a poll batch per transaction, ordered by the registry's sequence; a snapshot that does
# not parse is dead-lettered); snapshots published before v2 are read too (`HouseholdFacts`).
READ_MODEL = HouseholdReadModel(households=Household, after_apply=after_households,
                                snapshot_model=readmodels.HouseholdFacts)


async def on_division_updated(session: AsyncSession, event: dict[str, Any]) -> None:
    await readmodels.apply_division(session, division=DivisionUpdated.model_validate(event["data"]),
                                    at=event_time(event))


async def on_division_exited(session: AsyncSession, event: dict[str, Any]) -> None:
    await readmodels.apply_division_exit(session, exited=DivisionExited.model_validate(event["data"]),
                                         event_id=str(event["id"]), at=event_time(event))


def _payment(event: dict[str, Any]) -> tuple[PaymentCompleted, dt.datetime]:
    return PaymentCompleted.model_validate(event["data"]), event_time(event)


# A poll batch per transaction (the paid ones in one statement): a backlog of finance's payments (every
# programme's) no longer takes a transaction per event, nor holds back the household topics
on_payment_completed = BatchHandler(_payment, readmodels.apply_payments)


HANDLERS: dict[str, Any] = {
    **READ_MODEL.handlers(),
    "division-updated": on_division_updated,
    "division-exited": on_division_exited,
    "payment-completed": on_payment_completed,
}
