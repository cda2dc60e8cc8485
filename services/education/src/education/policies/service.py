"""Reading and setting the grant policy of an academic year (the kit's year-policy store, keyed by academic year)."""

from dataclasses import asdict

from sqlmodel.ext.asyncio.session import AsyncSession

from education.grants.rules import DEFAULT_POLICY, GrantPolicy
from education.policies.models import GrantPolicyRecord, PolicyAmounts, PolicyPublic
from fupin_kit.policies import PolicyStore, Stored

AMOUNT_FIELDS = tuple(PolicyAmounts.model_fields)

STORE: PolicyStore[str, GrantPolicy] = PolicyStore(
    GrantPolicyRecord, key="academic_year", default=lambda academic_year: DEFAULT_POLICY, to_row=asdict,
    from_row=lambda record: GrantPolicy(**{name: getattr(record, name) for name in AMOUNT_FIELDS}))


async def policy_for(session: AsyncSession, *, academic_year: str) -> GrantPolicy:
    """The amounts in force for `academic_year`: the stored ones, else the defaults."""
    return (await STORE.get(session, academic_year)).policy


def public(stored: Stored[str, GrantPolicy]) -> PolicyPublic:
    return PolicyPublic(academic_year=stored.key, is_default=stored.is_default, **asdict(stored.policy))


async def read_policy(session: AsyncSession, *, academic_year: str) -> PolicyPublic:
    return public(await STORE.get(session, academic_year))


async def set_policy(session: AsyncSession, *, academic_year: str, amounts: PolicyAmounts,
                     updated_by: str) -> PolicyPublic:
    """Replace every amount of the year (grants already awarded keep the amount they were awarded with)."""
    stored, _ = await STORE.put(session, academic_year, GrantPolicy(**dict(amounts)), actor=updated_by)
    return public(stored)
