"""Seed §五(十五): 市、县区每年按照不低于地方一般预算收入2%的比例安排专项扶贫资金,并确保每年增长不低于xx%.

Pure functions; the ratio (2%) and the minimum growth (xx%, shipped as 10%) are per-year policy values.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from fupin_kit.money import FEN

DEFAULT_FLOOR_RATIO = Decimal("0.02")
DEFAULT_MIN_GROWTH_RATE = Decimal("0.10")
RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class BudgetAssessment:
    floor_amount: Decimal
    meets_floor: bool
    growth_rate: Decimal | None
    meets_growth: bool | None


def assess_special_fund_budget(*, general_budget_revenue: Decimal, special_fund_budget: Decimal,
                               previous_special_fund_budget: Decimal | None, floor_ratio: Decimal,
                               min_growth_rate: Decimal) -> BudgetAssessment:
    """Seed §五(十五): the special poverty fund is at least `floor_ratio` of the local general budget revenue and grows
    at least `min_growth_rate` over the previous year's special fund.

    Both tests compare exact amounts (exactly 2% meets the floor, growth of exactly 10% meets the minimum). The figures
    printed never contradict the verdicts: the floor amount is rounded up to the fen (the least budget that meets it)
    and the growth rate down to 4 places (it never overstates the growth, so 9.99995% prints 0.0999, not 0.1000).
    Without a previous year the growth is unknown (None); growth from a zero budget has no rate, and any budget
    meets it.
    """
    floor_exact = general_budget_revenue * floor_ratio
    if previous_special_fund_budget is None:
        growth_rate, meets_growth = None, None
    else:
        meets_growth = special_fund_budget >= previous_special_fund_budget * (1 + min_growth_rate)
        growth_rate = None if previous_special_fund_budget == 0 else (
            (special_fund_budget - previous_special_fund_budget) / previous_special_fund_budget
        ).quantize(RATE_PLACES, rounding=ROUND_FLOOR)
    return BudgetAssessment(floor_amount=floor_exact.quantize(FEN, rounding=ROUND_CEILING),
                            meets_floor=special_fund_budget >= floor_exact, growth_rate=growth_rate,
                            meets_growth=meets_growth)


def format_ratio(ratio: Decimal) -> str:
    """A policy ratio as the contract writes it: at least two places ("0.02", "0.10", "0.025")."""
    text = format(ratio.normalize(), "f")
    whole, _, places = text.partition(".")
    return f"{whole}.{places.ljust(2, '0')}"
