"""Whether a person may borrow: the read model, the year's policy and the household's loans (contract §2)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.ids import age_on
from microcredit.households.models import Household, Person
from microcredit.households.service import person_with_household
from microcredit.loans.models import Loan
from microcredit.persons import person_ref_of
from microcredit.policies.service import policy_for
from microcredit.rules import ZERO, ProductPolicy, available_amount, eligibility_reasons


@dataclass(frozen=True)
class Assessment:
    person: Person | None
    household: Household | None
    policy: ProductPolicy
    household_outstanding: Decimal
    reasons: list[str]

    @property
    def eligible(self) -> bool:
        return not self.reasons

    @property
    def available_amount(self) -> Decimal:
        """What may be lent now: the cap less the household's outstanding principal; 0.00 when not eligible."""
        return available_amount(self.household_outstanding, self.policy) if self.eligible else ZERO


async def household_exposure(session: AsyncSession, *, household_id: str) -> tuple[Decimal, bool]:
    """Outstanding principal of the household's active loans, and whether any of its loans is in default."""
    outstanding = (await session.exec(select(func.coalesce(func.sum(Loan.principal_outstanding), ZERO)).where(
        Loan.household_id == household_id, Loan.status == "active"))).one()
    defaulted = (await session.exec(select(func.count()).select_from(Loan).where(
        Loan.household_id == household_id, Loan.status == "defaulted"))).one()
    return Decimal(outstanding), defaulted > 0


async def assess(session: AsyncSession, *, id_number: str, on: dt.date, lock_household: bool = False) -> Assessment:
    """Assess the person on day `on`. With `lock_household` the household row stays locked FOR UPDATE until the
    transaction ends, so concurrent loans to members of one household are serialised against its cap."""
    person, household = await person_with_household(session, person_ref=person_ref_of(id_number),
                                                     lock=lock_household)
    policy, _ = await policy_for(session, year=on.year)
    outstanding, in_default = ZERO, False
    if household is not None:
        outstanding, in_default = await household_exposure(session, household_id=household.household_id)
    reasons = eligibility_reasons(
        household_status=household.status if household else None, labor=person.labor if person else None,
        age=age_on(id_number, on), household_outstanding=outstanding, household_in_default=in_default,
        policy=policy)
    return Assessment(person, household, policy, outstanding, reasons)


