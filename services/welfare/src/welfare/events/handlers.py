"""Consumers: the registry's four household topics (read model; removal stops everything) and finance's
`payment-completed` for the four welfare programmes (marks the benefit paid, a poll batch at a time:
`welfare.benefits.payments`)."""

import datetime as dt
import logging

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.events.consumer import Handler
from fupin_kit.events.households import Applied, HouseholdReadModel
from welfare.benefits.models import Benefit
from welfare.benefits.payments import on_payment_completed
from welfare.cases.models import OPEN_STATUSES, Case
from welfare.events.published import benefit_cancelled
from welfare.households.models import Household, Member
from welfare.rangers.models import RangerPost
from welfare.relocations.models import Relocation

log = logging.getLogger("welfare.events")



async def after_households(session: AsyncSession, result: Applied) -> None:
    """A removal (applied, not a stale one) stops everything of the household."""
    for item in result.applied:
        if item.status == "removed":
            await stop_household(session, str(item.household_id), item.occurred_at.date())


# The kit keeps `households` and `members`: a poll batch per transaction, ordered by the registry's sequence; a
# malformed snapshot is dead-lettered.
READ_MODEL = HouseholdReadModel(households=Household, members=Member, after_apply=after_households)


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


HANDLERS: dict[str, Handler] = {**READ_MODEL.handlers(),
                                "payment-completed": on_payment_completed}
