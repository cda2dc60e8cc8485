"""Read and set the settlement policy of a calendar year."""

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.policies import PolicyStore, Stored
from medical.policies.models import PolicyIn, PolicyPublic, YearPolicy
from medical.settlements.rules import DEFAULT_POLICY, HOSPITAL_LEVELS, LevelTerms, SettlementPolicy

SCALARS = ("basic_annual_cap", "critical_illness_threshold", "critical_illness_rate", "critical_illness_annual_cap",
           "assistance_rate", "assistance_annual_cap", "self_pay_cap_rate", "max_admission_total")


def policy_from_row(row: YearPolicy) -> SettlementPolicy:
    levels: dict[str, LevelTerms] = {
        level: LevelTerms(getattr(row, f"{level}_deductible"), getattr(row, f"{level}_rate"))
        for level in HOSPITAL_LEVELS}
    return SettlementPolicy(levels=levels, **{name: getattr(row, name) for name in SCALARS})


def policy_document(policy: SettlementPolicy) -> dict[str, Any]:
    """The policy as JSON-ready data (amounts and rates as strings): stored with each settlement, returned by GET."""
    return PolicyIn.model_validate(asdict(policy)).model_dump(mode="json")


def policy_from_document(document: dict[str, Any]) -> SettlementPolicy:
    parsed = PolicyIn.model_validate(document)
    levels = {level: LevelTerms(terms.deductible, terms.rate) for level, terms in parsed.levels}
    return SettlementPolicy(levels=levels, **{name: getattr(parsed, name) for name in SCALARS})


async def get_policy(session: AsyncSession, *, year: int) -> tuple[SettlementPolicy, bool]:
    """The policy in force for `year` and whether it was set (False: the contract's defaults)."""
    stored = await STORE.get(session, year)
    return stored.policy, not stored.is_default


def row_values(policy: SettlementPolicy) -> dict[str, Decimal]:
    """The table's columns of a policy (the level terms flattened)."""
    values: dict[str, Decimal] = {name: getattr(policy, name) for name in SCALARS}
    for level, terms in policy.levels.items():
        values[f"{level}_deductible"] = terms.deductible
        values[f"{level}_rate"] = terms.rate
    return values


STORE: PolicyStore[int, SettlementPolicy] = PolicyStore(
    YearPolicy, default=lambda year: DEFAULT_POLICY, from_row=policy_from_row, to_row=row_values)


async def set_policy(session: AsyncSession, *, year: int, policy_in: PolicyIn,
                     updated_by: str) -> tuple[Stored[int, SettlementPolicy], bool]:
    """Create or replace the year's policy; returns it and whether it was created."""
    return await STORE.put(session, year, policy_from_document(policy_in.model_dump(mode="json")), actor=updated_by)


def public(stored: Stored[int, SettlementPolicy]) -> PolicyPublic:
    return PolicyPublic(year=stored.key, source="default" if stored.is_default else "set",
                        is_default=stored.is_default, **policy_document(stored.policy))
