"""Per-year policy values: the poverty line and the exit incidence threshold (contract §1 defaults when unset)."""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict

from fupin_kit.money import Money, decimal, money_column, numeric
from fupin_kit.policies import YearPolicyRow

# A share such as "0.0300" (strictly between 0 and 1, four places) and a multiplier such as "1.50" (1 to 10).
Threshold = Annotated[Decimal, decimal(places=4, gt=0, lt=1, max_digits=5, shown="fixed")]
Multiplier = Annotated[Decimal, decimal(places=2, ge=1, le=10, max_digits=4, shown="fixed")]


class Policy(YearPolicyRow, table=True):
    __tablename__ = "policy"

    poverty_line: Decimal = money_column()
    exit_incidence_threshold: Decimal = numeric(6, 4)
    return_risk_multiplier: Decimal = numeric(6, 2)


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    poverty_line: Money
    exit_incidence_threshold: Threshold
    return_risk_multiplier: Multiplier = Decimal("1.5")


class PolicyPublic(BaseModel):
    year: int
    poverty_line: Money
    exit_incidence_threshold: Threshold
    return_risk_multiplier: Multiplier
    source: str  # "default" (contract table) or "set"
    is_default: bool  # the answer shape of every year policy (issue 13); `source` kept for existing readers
