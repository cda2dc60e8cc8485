"""Policy defaults from contract §1 (seed §二 退出标准; poverty lines of the national rural standard by year)."""

from decimal import Decimal

# Yuan per person per year; a later year uses the last entry, an earlier one the first.
DEFAULT_POVERTY_LINES: dict[int, Decimal] = {
    2014: Decimal("2800"), 2015: Decimal("2855"), 2016: Decimal("2952"), 2017: Decimal("3335"),
    2018: Decimal("3535"), 2019: Decimal("3747"), 2020: Decimal("4000"),
}
# A poor village or county exits when its poverty incidence is strictly below this share (contract §1: 3%).
DEFAULT_EXIT_INCIDENCE_THRESHOLD = Decimal("0.03")
# 防返贫监测 (after 2020): an exited household is at risk below 1.5 times the poverty line of its income year.
DEFAULT_RETURN_RISK_MULTIPLIER = Decimal("1.5")


def default_poverty_line(year: int) -> Decimal:
    """The contract's poverty line for `year`: later years use 2020's 4000, earlier years 2014's 2800."""
    years = sorted(DEFAULT_POVERTY_LINES)
    if year >= years[-1]:
        return DEFAULT_POVERTY_LINES[years[-1]]
    if year <= years[0]:
        return DEFAULT_POVERTY_LINES[years[0]]
    return DEFAULT_POVERTY_LINES[year]
