"""Effective policy values for a year (the kit's year-policy store): the stored row, else the contract's defaults."""

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.policies import PolicyStore, Stored
from registry.policies.models import Policy, PolicyIn
from registry.policies.rules import (
    DEFAULT_EXIT_INCIDENCE_THRESHOLD,
    DEFAULT_RETURN_RISK_MULTIPLIER,
    default_poverty_line,
)


@dataclass(frozen=True)
class PolicyValues:
    poverty_line: Decimal
    exit_incidence_threshold: Decimal
    return_risk_multiplier: Decimal


@dataclass(frozen=True)
class YearPolicy:
    year: int
    poverty_line: Decimal
    exit_incidence_threshold: Decimal
    return_risk_multiplier: Decimal
    source: str

    @property
    def is_default(self) -> bool:
        return self.source == "default"


def _default(year: int) -> PolicyValues:
    return PolicyValues(default_poverty_line(year), DEFAULT_EXIT_INCIDENCE_THRESHOLD, DEFAULT_RETURN_RISK_MULTIPLIER)


STORE: PolicyStore[int, PolicyValues] = PolicyStore(
    Policy, default=_default,
    from_row=lambda row: PolicyValues(row.poverty_line, row.exit_incidence_threshold, row.return_risk_multiplier),
    to_row=lambda values: {"poverty_line": values.poverty_line,
                           "exit_incidence_threshold": values.exit_incidence_threshold,
                           "return_risk_multiplier": values.return_risk_multiplier})


def _year_policy(stored: Stored[int, PolicyValues]) -> YearPolicy:
    values = stored.policy
    return YearPolicy(stored.key, values.poverty_line, values.exit_incidence_threshold, values.return_risk_multiplier,
                      "default" if stored.is_default else "set")


async def policy_for(session: AsyncSession, *, year: int) -> YearPolicy:
    return _year_policy(await STORE.get(session, year))


async def set_policy(session: AsyncSession, *, year: int, values: PolicyIn, actor: str) -> tuple[YearPolicy, bool]:
    """Create or replace the year's policy; returns it and whether it was created."""
    stored, created = await STORE.put(session, year, PolicyValues(
        values.poverty_line, values.exit_incidence_threshold, values.return_risk_multiplier), actor=actor)
    return _year_policy(stored), created
