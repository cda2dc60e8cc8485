"""Effective policy values for a year: the stored row, else the contract's defaults."""

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from registry.policies.models import Policy, PolicyIn
from registry.policies.rules import (
    DEFAULT_EXIT_INCIDENCE_THRESHOLD,
    DEFAULT_RETURN_RISK_MULTIPLIER,
    default_poverty_line,
)


@dataclass(frozen=True)
class YearPolicy:
    year: int
    poverty_line: Decimal
    exit_incidence_threshold: Decimal
    return_risk_multiplier: Decimal
    source: str


async def policy_for(session: AsyncSession, *, year: int) -> YearPolicy:
    stored = await session.get(Policy, year)
    if stored is None:
        return YearPolicy(year, default_poverty_line(year), DEFAULT_EXIT_INCIDENCE_THRESHOLD,
                          DEFAULT_RETURN_RISK_MULTIPLIER, "default")
    return YearPolicy(year, stored.poverty_line, stored.exit_incidence_threshold, stored.return_risk_multiplier,
                      "set")


async def set_policy(session: AsyncSession, *, year: int, values: PolicyIn, actor: str) -> tuple[YearPolicy, bool]:
    """Create or replace the year's policy; returns it and whether it was created."""
    stored = await session.get(Policy, year, with_for_update=True)
    created = stored is None
    if stored is None:
        stored = Policy(year=year, poverty_line=values.poverty_line,
                        exit_incidence_threshold=values.exit_incidence_threshold,
                        return_risk_multiplier=values.return_risk_multiplier, updated_by=actor)
        session.add(stored)
    else:
        stored.poverty_line = values.poverty_line
        stored.exit_incidence_threshold = values.exit_incidence_threshold
        stored.return_risk_multiplier = values.return_risk_multiplier
        stored.updated_by = actor
    await session.flush()
    return await policy_for(session, year=year), created
