"""Reading and setting the product policy of a year (the kit's year-policy store); the contract's defaults where none
was set."""

from dataclasses import asdict

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.policies import PolicyStore, Stored
from microcredit.policies.models import PolicyIn, ProductPolicyRow
from microcredit.rules import DEFAULT_POLICY, ProductPolicy

STORE: PolicyStore[int, ProductPolicy] = PolicyStore(
    ProductPolicyRow, default=lambda year: DEFAULT_POLICY, to_row=asdict,
    from_row=lambda row: ProductPolicy(**{name: getattr(row, name) for name in ProductPolicy.__dataclass_fields__}))


async def policy_for(session: AsyncSession, *, year: int) -> tuple[ProductPolicy, bool]:
    """The policy in force in `year` and whether it is the shipped default."""
    stored = await STORE.get(session, year)
    return stored.policy, stored.is_default


async def set_policy(session: AsyncSession, *, year: int, terms: PolicyIn,
                     updated_by: str) -> Stored[int, ProductPolicy]:
    stored, _ = await STORE.put(session, year, ProductPolicy(**dict(terms)), actor=updated_by)
    return stored
