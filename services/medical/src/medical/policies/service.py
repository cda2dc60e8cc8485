"""Read and set the settlement policy of a calendar year."""

import datetime as dt
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

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
    row = await session.get(YearPolicy, year)
    return (policy_from_row(row), True) if row is not None else (DEFAULT_POLICY, False)


async def set_policy(session: AsyncSession, *, year: int, policy_in: PolicyIn, updated_by: str) -> bool:
    """Create or replace the year's policy; True when it was created."""
    values: dict[str, Decimal] = {name: getattr(policy_in, name) for name in SCALARS}
    for level, terms in policy_in.levels:
        values[f"{level}_deductible"] = terms.deductible
        values[f"{level}_rate"] = terms.rate
    row = await session.get(YearPolicy, year)
    created = row is None
    if row is None:
        row = YearPolicy(year=year, updated_by=updated_by)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by = updated_by
    row.updated_at = dt.datetime.now(dt.UTC)
    session.add(row)
    await session.flush()
    return created


def public(year: int, policy: SettlementPolicy, is_set: bool) -> PolicyPublic:
    return PolicyPublic(year=year, source="set" if is_set else "default", **policy_document(policy))
