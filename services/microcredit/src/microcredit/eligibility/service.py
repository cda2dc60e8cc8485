"""Whether a person may borrow: the read model, the year's policy and the household's loans (contract §2)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import asyncpg
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.ids import age_on, pseudonym
from microcredit.households.models import Household, Person
from microcredit.households.service import person_with_household
from microcredit.loans.models import Loan
from microcredit.policies.service import policy_for
from microcredit.rules import DEFAULT_POLICY, ZERO, ProductPolicy, available_amount, eligibility_reasons


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


async def assess(session: AsyncSession, *, id_number: str, pseudonym_key: str, on: dt.date,
                 lock_household: bool = False) -> Assessment:
    """Assess the person on day `on`. With `lock_household` the household row stays locked FOR UPDATE until the
    transaction ends, so concurrent loans to members of one household are serialised against its cap."""
    person, household = await person_with_household(session, person_ref=pseudonym(id_number, pseudonym_key),
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




@dataclass(frozen=True)
class Verdict:
    """What a bank's check answers: the same decision as `assess`, without the ORM rows."""

    policy: ProductPolicy
    household_outstanding: Decimal
    reasons: list[str]

    @property
    def eligible(self) -> bool:
        return not self.reasons

    @property
    def available_amount(self) -> Decimal:
        return available_amount(self.household_outstanding, self.policy) if self.eligible else ZERO


# `assess` (no lock) in one round trip: person and household (both absent when either is), the year's policy row
# (absent: the shipped default) and the household's exposure (none without a household).
_VERDICT_SQL = """
SELECT h.status AS household_status,
       CASE WHEN h.household_id IS NULL THEN NULL ELSE p.labor END AS labor,
       (SELECT coalesce(sum(l.principal_outstanding), 0.00) FROM loans l
         WHERE l.household_id = h.household_id AND l.status = 'active') AS outstanding,
       EXISTS (SELECT 1 FROM loans l WHERE l.household_id = h.household_id AND l.status = 'defaulted') AS in_default,
       pp.year AS policy_year, pp.household_cap, pp.max_term_months, pp.min_age, pp.max_age, pp.benchmark_rate,
       pp.compensation_ratio
FROM (SELECT $1::text AS person_ref, $2::int AS year) AS q
LEFT JOIN persons p ON p.person_ref = q.person_ref
LEFT JOIN households h ON h.household_id = p.household_id
LEFT JOIN product_policies pp ON pp.year = q.year
"""


async def verdict(conn: asyncpg.Connection, *, id_number: str, pseudonym_key: str, on: dt.date) -> Verdict:
    """The eligibility check's answer, read in one statement on the driver's connection (plain asyncpg: this is the
    banks' hot path, where the ORM cost more than the queries). Same rules and inputs as `assess`."""
    row = await conn.fetchrow(_VERDICT_SQL, pseudonym(id_number, pseudonym_key), on.year)
    policy = DEFAULT_POLICY if row["policy_year"] is None else ProductPolicy(
        household_cap=row["household_cap"], max_term_months=row["max_term_months"], min_age=row["min_age"],
        max_age=row["max_age"], benchmark_rate=row["benchmark_rate"], compensation_ratio=row["compensation_ratio"])
    outstanding = Decimal(row["outstanding"])
    reasons = eligibility_reasons(
        household_status=row["household_status"], labor=row["labor"], age=age_on(id_number, on),
        household_outstanding=outstanding, household_in_default=bool(row["in_default"]), policy=policy)
    return Verdict(policy, outstanding, reasons)
