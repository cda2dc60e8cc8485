"""The welfare policy of a year and its shipped defaults (contract v2 §8; seed §三(七), §三(八), §三(五))."""

from dataclasses import dataclass
from decimal import Decimal

from fupin_kit.money import round_fen

D = Decimal
# §1's poverty line table (yuan per person per year); a later year uses the last entry, an earlier one the first.
POVERTY_LINES: dict[int, Decimal] = {2014: D("2800"), 2015: D("2855"), 2016: D("2952"), 2017: D("3335"),
                                     2018: D("3535"), 2019: D("3747"), 2020: D("4000")}

TEN_PERCENT = D("0.10")
TWENTY_PERCENT = D("0.20")
TEMPORARY_ASSISTANCE_CAP = D("5000.00")  # per household and calendar year (chosen)
RANGER_ALLOWANCE = D("10000.00")  # a year: the central subsidy per ranger (chosen)
RELOCATION_SUBSIDY = D("25000.00")  # per person (chosen)


@dataclass(frozen=True)
class Supplements:
    """Shares of the monthly standard paid per member of a 低保 household."""

    elderly: Decimal = TEN_PERCENT
    minor: Decimal = TEN_PERCENT
    severe_disability: Decimal = TWENTY_PERCENT


@dataclass(frozen=True)
class WelfarePolicy:
    poverty_line: Decimal
    minimum_living_standard: Decimal
    supplements: Supplements
    gradual_exit_months: int = 6
    gradual_exit_months_disabled: int = 12
    temporary_assistance_cap: Decimal = TEMPORARY_ASSISTANCE_CAP
    ranger_allowance: Decimal = RANGER_ALLOWANCE
    ranger_min_age: int = 18
    ranger_max_age: int = 60
    rangers_per_household: int = 1
    relocation_subsidy: Decimal = RELOCATION_SUBSIDY


def poverty_line(year: int) -> Decimal:
    if year in POVERTY_LINES:
        return POVERTY_LINES[year]
    return POVERTY_LINES[max(POVERTY_LINES)] if year > max(POVERTY_LINES) else POVERTY_LINES[min(POVERTY_LINES)]


def monthly_standard(line: Decimal) -> Decimal:
    """两线合一: the monthly 低保 standard is the yearly poverty line / 12, rounded half-up to the fen."""
    return round_fen(line / 12)


def default_policy(year: int) -> WelfarePolicy:
    line = poverty_line(year)
    return WelfarePolicy(poverty_line=line.quantize(D("0.01")), minimum_living_standard=monthly_standard(line),
                         supplements=Supplements())
