"""Benefits: reads, one-off benefits, runs read back (the monthly run itself is `welfare.benefits.run`)."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import NotFound
from welfare.benefits.models import Benefit, Run
from welfare.events.published import benefit_due
from welfare.households.models import Household


def benefit_not_found() -> NotFound:
    return NotFound("benefit_not_found", "no such benefit")


async def get_benefit(session: AsyncSession, benefit_id: str) -> Benefit:
    try:
        key = uuid.UUID(benefit_id)
    except ValueError:
        raise benefit_not_found() from None
    benefit = await session.get(Benefit, key)
    if benefit is None:
        raise benefit_not_found()
    return benefit


async def list_benefits(session: AsyncSession, *, case_id: str | None, household_id: str | None) -> list[Benefit]:
    query = select(Benefit)
    if case_id is not None:
        try:
            query = query.where(Benefit.case_id == uuid.UUID(case_id))
        except ValueError:
            return []
    if household_id is not None:
        query = query.where(Benefit.household_id == household_id)
    query = query.order_by(col(Benefit.month).nulls_last(), col(Benefit.created_at), col(Benefit.benefit_id))
    return list((await session.exec(query)).all())


async def stage_one_off(session: AsyncSession, household: Household, *, kind: str, amount: Decimal,
                        decided_on: dt.date, case_id: uuid.UUID | None = None, cause: str | None = None,
                        breakdown: dict[str, Any] | None = None) -> Benefit:
    """A one-off benefit (temporary assistance, relocation) for a household the caller has found registered poor
    (`registered_poor`, locked where its rule needs it), and its `benefit-due`, in the caller's transaction. The
    county and village are the household's: finance pays from its county."""
    benefit = Benefit(kind=kind, case_id=case_id, household_id=household.household_id,
                      county_code=household.county_code, village_code=household.village_code, month=None,
                      amount=amount, cause=cause, decided_on=decided_on, breakdown=breakdown,
                      created_at=dt.datetime.now(dt.UTC))
    session.add(benefit)
    await session.flush()
    await benefit_due(session, benefit)
    return benefit


async def get_run(session: AsyncSession, run_id: str) -> Run:
    not_found = NotFound("run_not_found", "no such run")
    try:
        key = uuid.UUID(run_id)
    except ValueError:
        raise not_found from None
    run = await session.get(Run, key)
    if run is None:
        raise not_found
    return run


