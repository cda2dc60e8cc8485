"""Reading and setting the product policy of a year; the contract's defaults where none was set."""

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from microcredit.policies.models import PolicyIn, ProductPolicyRow
from microcredit.rules import DEFAULT_POLICY, ProductPolicy


async def policy_for(session: AsyncSession, *, year: int) -> tuple[ProductPolicy, bool]:
    """The policy in force in `year` and whether it is the shipped default."""
    row = (await session.exec(select(ProductPolicyRow).where(ProductPolicyRow.year == year))).first()
    if row is None:
        return DEFAULT_POLICY, True
    return ProductPolicy(household_cap=row.household_cap, max_term_months=row.max_term_months, min_age=row.min_age,
                         max_age=row.max_age, benchmark_rate=row.benchmark_rate,
                         compensation_ratio=row.compensation_ratio), False


async def set_policy(session: AsyncSession, *, year: int, terms: PolicyIn, updated_by: str) -> ProductPolicy:
    values = {**terms.model_dump(), "updated_by": updated_by}
    statement = insert(ProductPolicyRow).values(year=year, **values)
    await session.exec(statement.on_conflict_do_update(index_elements=["year"], set_=values))
    return ProductPolicy(**terms.model_dump())
