"""Reading and setting the policy of a year (the kit's year-policy store); the contract's defaults where none was
set."""

from collections.abc import Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.policies import PolicyStore
from welfare.policies.models import PolicyIn, WelfarePolicyRow, row_values
from welfare.policies.rules import WelfarePolicy, default_policy

STORE: PolicyStore[int, WelfarePolicy] = PolicyStore(
    WelfarePolicyRow, default=default_policy, from_row=WelfarePolicyRow.to_policy, to_row=row_values)


async def policy_for(session: AsyncSession, *, year: int) -> tuple[WelfarePolicy, bool]:
    """The policy in force in `year` and whether it is the shipped default."""
    stored = await STORE.get(session, year)
    return stored.policy, stored.is_default


async def policy_table(session: AsyncSession) -> Callable[[int], WelfarePolicy]:
    """Every year's policy at once (a handful of rows), as a function of the year."""
    return await STORE.table_of(session)


async def set_policy(session: AsyncSession, *, year: int, terms: PolicyIn, updated_by: str) -> WelfarePolicy:
    stored, _ = await STORE.put(session, year, terms.to_policy(), actor=updated_by)
    return stored.policy
