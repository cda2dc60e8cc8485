"""Annual reviews, household exit (脱贫), return to poverty (返贫) and removal (wrongly identified)."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import Conflict
from registry.events.published import EXIT_CERTIFIED, HOUSEHOLD_REMOVED, RETURNED_TO_POVERTY, publish_household
from registry.exits.models import AnnualReview, AnnualReviewIn, ExitDecision
from registry.exits.rules import exit_standard_unmet, per_capita_income
from registry.households import service as households
from registry.households.models import CLOSED, Household, Status
from registry.policies.service import policy_for

MAY_EXIT = (Status.registered, Status.returned)


def invalid_status(household: Household, action: str) -> Conflict:
    return Conflict("invalid_status", f"a household in status {household.status} cannot {action}")


async def record_review(session: AsyncSession, *, household_id: uuid.UUID, body: AnnualReviewIn,
                        actor: str) -> tuple[AnnualReview, Household]:
    """Keep the year's data; the newest income year becomes the household's latest income and indicators."""
    household = await households.get_household(session, household_id, for_update=True)
    if household.status in CLOSED:
        raise invalid_status(household, "be reviewed")
    review = AnnualReview(household_id=household_id, income_year=body.income_year,
                          annual_income=body.annual_income, indicators=body.indicators.model_dump(),
                          reviewed_by=actor)
    session.add(review)
    if body.income_year >= household.income_year:
        household.income_year, household.annual_income = body.income_year, body.annual_income
        household.indicators = body.indicators.model_dump()
    await session.flush()
    return review, household


async def decide_exit(session: AsyncSession, *, household_id: uuid.UUID, actor: str) -> tuple[ExitDecision,
                                                                                                Household]:
    """Apply the exit standard to the latest data and keep the decision with its inputs; certified → `exited`."""
    household = await households.get_household(session, household_id, for_update=True)
    if household.status not in MAY_EXIT:
        raise invalid_status(household, "exit")
    members = await households.members_of(session, household_id)
    policy = await policy_for(session, year=household.income_year)
    unmet = exit_standard_unmet(annual_income=household.annual_income, member_count=len(members),
                                poverty_line=policy.poverty_line, indicators=household.indicators)
    decision = ExitDecision(
        household_id=household_id, certified=not unmet, unmet=unmet, income_year=household.income_year,
        annual_income=household.annual_income, member_count=len(members),
        per_capita_income=per_capita_income(household.annual_income, len(members)),
        poverty_line=policy.poverty_line, policy_source=policy.source, indicators=dict(household.indicators),
        status_before=household.status, decided_by=actor)
    session.add(decision)
    if not unmet:
        await households.move(session, household, to=Status.exited, action="exit_certified", actor=actor,
                              reason=f"per-capita income {decision.per_capita_income} above the line "
                                     f"{policy.poverty_line} of {household.income_year}; all indicators met")
        await publish_household(session, topic=EXIT_CERTIFIED, household=household, members=members)
    await session.flush()
    return decision, household


async def return_to_poverty(session: AsyncSession, *, household_id: uuid.UUID, reason: str,
                            actor: str) -> Household:
    household = await households.get_household(session, household_id, for_update=True)
    if household.status != Status.exited:
        raise invalid_status(household, "return to poverty (only an exited household can)")
    await households.move(session, household, to=Status.returned, action="returned", actor=actor, reason=reason)
    await publish_household(session, topic=RETURNED_TO_POVERTY, household=household,
                            members=await households.members_of(session, household_id))
    return household


async def remove(session: AsyncSession, *, household_id: uuid.UUID, reason: str, actor: str) -> Household:
    """Wrongly identified: the household leaves the register and its members may be identified again."""
    household = await households.get_household(session, household_id, for_update=True)
    if household.status in CLOSED:
        raise invalid_status(household, "be removed")
    await households.move(session, household, to=Status.removed, action="removed", actor=actor, reason=reason)
    await publish_household(session, topic=HOUSEHOLD_REMOVED, household=household,
                            members=await households.members_of(session, household_id))
    return household
