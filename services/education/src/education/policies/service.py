"""Reading and setting the grant policy of an academic year."""

from dataclasses import asdict

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from education.grants.rules import DEFAULT_POLICY, GrantPolicy
from education.policies.models import GrantPolicyRecord, PolicyAmounts, PolicyPublic

AMOUNT_FIELDS = tuple(PolicyAmounts.model_fields)


async def policy_for(session: AsyncSession, *, academic_year: str) -> GrantPolicy:
    """The amounts in force for `academic_year`: the stored ones, else the defaults."""
    record = await session.get(GrantPolicyRecord, academic_year)
    if record is None:
        return DEFAULT_POLICY
    return GrantPolicy(**{name: getattr(record, name) for name in AMOUNT_FIELDS})


async def read_policy(session: AsyncSession, *, academic_year: str) -> PolicyPublic:
    record = await session.get(GrantPolicyRecord, academic_year)
    amounts = asdict(DEFAULT_POLICY) if record is None else {name: getattr(record, name) for name in AMOUNT_FIELDS}
    return PolicyPublic(academic_year=academic_year, is_default=record is None, **amounts)


async def set_policy(session: AsyncSession, *, academic_year: str, amounts: PolicyAmounts,
                     updated_by: str) -> PolicyPublic:
    """Replace every amount of the year (grants already awarded keep the amount they were awarded with)."""
    values = {"academic_year": academic_year, "updated_by": updated_by, **amounts.model_dump()}
    statement = insert(GrantPolicyRecord).values(**values)
    await session.exec(statement.on_conflict_do_update(
        index_elements=[GrantPolicyRecord.academic_year],
        set_={**{key: statement.excluded[key] for key in values if key != "academic_year"},
              "updated_at": func.now()}))
    return PolicyPublic(academic_year=academic_year, is_default=False, **amounts.model_dump())
