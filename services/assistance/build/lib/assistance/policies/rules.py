"""The assistance policy of a year (contract §7 "Default policy per year"): pure values, no I/O."""

from dataclasses import dataclass, field
from decimal import Decimal

WEIGHT_NAMES = ("households", "villages", "funds", "helper_coverage")


@dataclass(frozen=True)
class Weights:
    """Assessment weights (chosen: exits weigh 0.60 together, 提高减贫指标权重); they sum to 1."""

    households: Decimal = Decimal("0.40")
    villages: Decimal = Decimal("0.20")
    funds: Decimal = Decimal("0.20")
    helper_coverage: Decimal = Decimal("0.20")

    def total(self) -> Decimal:
        return self.households + self.villages + self.funds + self.helper_coverage


@dataclass(frozen=True)
class Policy:
    helper_max_households: int = 5  # a helper has at most 5 active households (chosen)
    team_min_members: int = 3  # the 2017 national guidance
    team_min_days: int = 200  # seed §六(二十) "xx days a year" (chosen)
    team_stay_years: int = 3  # the plan's three-year assistance period after exit
    weights: Weights = field(default_factory=Weights)
    excellent_from: Decimal = Decimal("90.00")
    pass_from: Decimal = Decimal("60.00")
    veto_error_rate: Decimal = Decimal("0.02")  # the national third-party evaluation's 2%


DEFAULT_POLICY = Policy()


def weights_sum_to_one(weights: Weights) -> bool:
    """Weights are exact decimals: 0.40 + 0.20 + 0.20 + 0.20 is 1, 0.40 + 0.20 + 0.20 + 0.21 is not."""
    return weights.total() == Decimal(1)
