"""Exit standards (seed §二 "制定贫困县、贫困村、贫困户脱贫认定标准和退出办法"; values in contract §1)."""

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from fupin_kit.money import round_fen

INDICATORS = ("food_clothing_secure", "compulsory_education_ok", "basic_medical_ok", "housing_safe",
              "drinking_water_safe")
INCOME_BELOW_LINE = "income_below_line"


def per_capita_income(annual_income: Decimal, member_count: int) -> Decimal:
    """Household net income divided by its members, rounded half-up to the fen (for display and records)."""
    return round_fen(annual_income / member_count)


def income_above_line(*, annual_income: Decimal, member_count: int, poverty_line: Decimal) -> bool:
    """Per-capita income strictly above the line; compared exactly (income > line x members), so no rounding
    can lift a household that sits exactly on the line."""
    return annual_income > poverty_line * member_count


def exit_standard_unmet(*, annual_income: Decimal, member_count: int, poverty_line: Decimal,
                        indicators: Mapping[str, bool]) -> list[str]:
    """What keeps a household from exiting (脱贫), in the contract's order; empty when it may exit.

    Contract §1: the latest per-capita income must be above the poverty line of that income year (exactly at the
    line is not above it) and all five indicators (不愁吃、不愁穿, 义务教育、基本医疗、住房安全有保障, safe water) true.
    """
    unmet = [] if income_above_line(annual_income=annual_income, member_count=member_count,
                                    poverty_line=poverty_line) else [INCOME_BELOW_LINE]
    unmet.extend(name for name in INDICATORS if not indicators.get(name, False))
    return unmet


def poverty_incidence(poor_persons: int, population: int) -> Decimal | None:
    """Poor persons / registered rural population, 4 places half-up; None without a population."""
    if population <= 0:
        return None
    return (Decimal(poor_persons) / Decimal(population)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def division_may_exit(*, poor_persons: int, population: int, threshold: Decimal) -> bool:
    """A poor village or county exits when its poverty incidence is strictly below the threshold (3% default).

    Compared exactly (poor / population < threshold), not on the rounded 4-place figure."""
    if population <= 0:
        return False
    return Decimal(poor_persons) < threshold * population
