"""Consumers: the registry's four household topics (read model; removal stops everything) and finance's
`payment-completed` for the four welfare programmes (marks the benefit paid, a poll batch at a time:
`welfare.benefits.payments`)."""

import datetime as dt
import logging
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import HouseholdSnapshot
from fupin_kit.events.consumer import Handler
from welfare.benefits.models import Benefit
from welfare.benefits.payments import on_payment_completed
from welfare.cases.models import OPEN_STATUSES, Case
from welfare.events.published import benefit_cancelled
from welfare.households.service import apply_snapshot
from welfare.rangers.models import RangerPost
from welfare.relocations.models import Relocation

log = logging.getLogger("welfare.events")

HOUSEHOLD_TOPICS = ("household-registered", "exit-certified", "returned-to-poverty", "household-removed")


async def on_household_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Upsert the snapshot; a malformed payload raises, so the kit dead-letters it."""
    snapshot = HouseholdSnapshot.model_validate(event["data"])
    if not await apply_snapshot(session, snapshot):
        log.info("stale household snapshot skipped", extra={"fields": {"household_id": str(snapshot.household_id)}})
        return
    if snapshot.status == "removed":
        await stop_household(session, str(snapshot.household_id), snapshot.occurred_at.date())


async def stop_household(session: AsyncSession, household_id: str, on: dt.date) -> None:
    """Removal (wrongly identified): open cases, the active ranger post and a planned relocation become `stopped`;
    each benefit not yet paid becomes `cancelled`, with `benefit-cancelled`."""
    await session.exec(update(Case).where(col(Case.household_id) == household_id,
                                          col(Case.status).in_(OPEN_STATUSES))
                       .values(status="stopped", closed_on=on, close_reason="household_removed", closes_from=None))
    await session.exec(update(RangerPost).where(col(RangerPost.household_id) == household_id,
                                                col(RangerPost.status) == "active")
                       .values(status="stopped", ended_on=on, end_reason="household_removed"))
    await session.exec(update(Relocation).where(col(Relocation.household_id) == household_id,
                                                col(Relocation.status) == "planned").values(status="stopped"))
    due = (await session.exec(select(Benefit).where(Benefit.household_id == household_id, Benefit.status == "due")
                              .with_for_update())).all()
    now = dt.datetime.now(dt.UTC)
    for benefit in due:
        benefit.status, benefit.cancelled_at = "cancelled", now
        session.add(benefit)
        await benefit_cancelled(session, benefit)


HANDLERS: dict[str, Handler] = {**{topic: on_household_event for topic in HOUSEHOLD_TOPICS},
                                "payment-completed": on_payment_completed}
