"""Temporary assistance: the yearly cap per household holds under concurrency (the household row is locked)."""

from decimal import Decimal
from typing import Any

from sqlalchemy import extract, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import Unprocessable
from welfare.assistance.models import TemporaryAssistanceIn
from welfare.assistance.rules import ZERO, available_under_cap, within_cap
from welfare.benefits.models import Benefit, benefit_out
from welfare.benefits.service import stage_one_off
from welfare.households.service import registered_poor
from welfare.policies.service import policy_for


async def year_total(session: AsyncSession, household_id: str, year: int) -> Decimal:
    total = (await session.exec(select(func.coalesce(func.sum(Benefit.amount), ZERO)).where(
        Benefit.household_id == household_id, Benefit.kind == "temporary_assistance",
        col(Benefit.status) != "cancelled", extract("year", col(Benefit.decided_on)) == year))).one()
    return Decimal(total)


async def grant(session: AsyncSession, body: TemporaryAssistanceIn) -> dict[str, Any]:
    household = await registered_poor(session, body.household_id, lock=True)  # serialises grants per household
    year = body.decided_on.year
    policy, _ = await policy_for(session, year=year)
    total = await year_total(session, household.household_id, year)
    if not within_cap(body.amount, policy.temporary_assistance_cap, total):
        available = available_under_cap(policy.temporary_assistance_cap, total)
        raise Unprocessable("cap_exceeded", f"at most {available:.2f} more may be granted in {year}",
                            available=f"{available:.2f}", year_total=f"{total:.2f}",
                            year_cap=f"{policy.temporary_assistance_cap:.2f}",
                            errors=[{"field": "amount", "message": f"above the {available:.2f} still available"}])
    benefit = await stage_one_off(session, household, kind="temporary_assistance", amount=body.amount,
                                  decided_on=body.decided_on, cause=body.cause)
    return {**benefit_out(benefit), "year_total": f"{total + body.amount:.2f}",
            "year_cap": f"{policy.temporary_assistance_cap:.2f}"}


async def view(session: AsyncSession, benefit: Benefit) -> dict[str, Any]:
    assert benefit.decided_on is not None
    policy, _ = await policy_for(session, year=benefit.decided_on.year)
    total = await year_total(session, benefit.household_id, benefit.decided_on.year)
    return {**benefit_out(benefit), "year_total": f"{total:.2f}", "year_cap": f"{policy.temporary_assistance_cap:.2f}"}
