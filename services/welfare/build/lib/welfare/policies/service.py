"""Reading and setting the policy of a year; the contract's defaults where none was set."""

from collections.abc import Callable

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from welfare.policies.models import PolicyIn, WelfarePolicyRow
from welfare.policies.rules import WelfarePolicy, default_policy


async def policy_for(session: AsyncSession, *, year: int) -> tuple[WelfarePolicy, bool]:
    """The policy in force in `year` and whether it is the shipped default."""
    row = (await session.exec(select(WelfarePolicyRow).where(WelfarePolicyRow.year == year))).first()
    return (default_policy(year), True) if row is None else (row.to_policy(), False)


async def policy_table(session: AsyncSession) -> Callable[[int], WelfarePolicy]:
    """Every year's policy at once (a handful of rows), as a function of the year."""
    rows = {r.year: r.to_policy() for r in (await session.exec(select(WelfarePolicyRow))).all()}
    cache: dict[int, WelfarePolicy] = dict(rows)

    def policy_of(year: int) -> WelfarePolicy:
        if year not in cache:
            cache[year] = default_policy(year)
        return cache[year]

    return policy_of


async def set_policy(session: AsyncSession, *, year: int, terms: PolicyIn, updated_by: str) -> WelfarePolicy:
    s = terms.supplements
    values = {
        "poverty_line": terms.poverty_line, "minimum_living_standard": terms.minimum_living_standard,
        "supplement_elderly": s.elderly, "supplement_minor": s.minor,
        "supplement_severe_disability": s.severe_disability,
        "gradual_exit_months": terms.gradual_exit_months,
        "gradual_exit_months_disabled": terms.gradual_exit_months_disabled,
        "temporary_assistance_cap": terms.temporary_assistance_cap, "ranger_allowance": terms.ranger_allowance,
        "ranger_min_age": terms.ranger_min_age, "ranger_max_age": terms.ranger_max_age,
        "rangers_per_household": terms.rangers_per_household, "relocation_subsidy": terms.relocation_subsidy,
        "updated_by": updated_by}
    statement = insert(WelfarePolicyRow).values(year=year, **values)
    await session.exec(statement.on_conflict_do_update(index_elements=["year"], set_=values))
    return terms.to_policy()
