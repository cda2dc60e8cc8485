"""Exit standards and division codes as pure functions, at their boundaries (no database)."""

from decimal import Decimal

from registry.divisions.models import Level
from registry.divisions.rules import division_code_problem
from registry.exits.rules import (
    INDICATORS,
    division_may_exit,
    exit_standard_unmet,
    per_capita_income,
    poverty_incidence,
)
from registry.policies.rules import default_poverty_line

ALL_TRUE = {name: True for name in INDICATORS}


def unmet(income: str, members: int, line: str = "4000", **indicators: bool) -> list[str]:
    return exit_standard_unmet(annual_income=Decimal(income), member_count=members, poverty_line=Decimal(line),
                               indicators={**ALL_TRUE, **indicators})


def test_income_exactly_at_the_line_is_not_above_it() -> None:
    assert unmet("8000.00", 2) == ["income_below_line"]
    assert unmet("8000.01", 2) == []
    assert unmet("7999.99", 2) == ["income_below_line"]


def test_income_at_the_line_after_rounding_is_still_not_above() -> None:
    # 12000.01 / 3 = 4000.0033.. rounds to 4000.00 yet is above; 11999.99 / 3 rounds to 4000.00 and is below.
    assert unmet("12000.01", 3) == []
    assert unmet("11999.99", 3) == ["income_below_line"]
    assert per_capita_income(Decimal("11999.99"), 3) == Decimal("4000.00")


def test_every_false_indicator_is_listed_in_order() -> None:
    assert unmet("0", 1, **{name: False for name in INDICATORS}) == ["income_below_line", *INDICATORS]
    assert unmet("99999", 1, drinking_water_safe=False) == ["drinking_water_safe"]
    assert exit_standard_unmet(annual_income=Decimal("99999"), member_count=1, poverty_line=Decimal("1"),
                               indicators={}) == list(INDICATORS)


def test_poverty_line_table_and_later_years() -> None:
    assert default_poverty_line(2014) == Decimal("2800")
    assert default_poverty_line(2017) == Decimal("3335")
    assert default_poverty_line(2020) == Decimal("4000")
    assert default_poverty_line(2025) == Decimal("4000")
    assert default_poverty_line(2010) == Decimal("2800")


def test_division_exit_strictly_below_the_threshold() -> None:
    three = Decimal("0.03")
    assert not division_may_exit(poor_persons=3, population=100, threshold=three)
    assert division_may_exit(poor_persons=2, population=100, threshold=three)
    assert division_may_exit(poor_persons=29999, population=1_000_000, threshold=three)
    assert not division_may_exit(poor_persons=0, population=0, threshold=three)
    assert poverty_incidence(3, 101) == Decimal("0.0297")
    assert poverty_incidence(1, 0) is None


def test_division_codes_fit_their_level_and_parent() -> None:
    assert division_code_problem("610700", Level.city, None, None) is None
    assert division_code_problem("610723", Level.county, "610700", Level.city) is None
    assert division_code_problem("610723", Level.county, None, None) is None
    assert division_code_problem("610723100", Level.town, "610723", Level.county) is None
    assert division_code_problem("610723100201", Level.village, "610723100", Level.town) is None
    assert division_code_problem("610724100", Level.town, "610723", Level.county)
    assert division_code_problem("61072310", Level.town, "610723", Level.county)
    assert division_code_problem("610723100201", Level.village, "610723", Level.county)
    assert division_code_problem("610723100", Level.town, "610723", None)
    assert division_code_problem("610723100", Level.town, None, None)
    assert division_code_problem("61072a", Level.county, None, None)
    assert division_code_problem("610700", Level.city, "610000", Level.city)


def test_return_risk_income_boundary_and_member_health() -> None:
    from registry.monitoring.rules import error_rate, return_risk_reasons

    def reasons(income: str, health: tuple[str, ...] = ("healthy", "healthy"), **indicators: bool) -> list[str]:
        return return_risk_reasons(annual_income=Decimal(income), member_count=len(health),
                                   poverty_line=Decimal("4000"), multiplier=Decimal("1.5"), member_health=health,
                                   indicators={**ALL_TRUE, **indicators})

    assert reasons("12000.00") == []
    assert reasons("11999.99") == ["income_below_monitoring_line"]
    assert reasons("99999", ("healthy", "serious", "disabled")) == ["member_serious_illness", "member_disabled"]
    assert reasons("99999", housing_safe=False) == ["indicator_turned_false"]
    assert error_rate(town_approved=5, refused_at_county=1, removed=1) == Decimal("0.4000")
    assert error_rate(town_approved=3, refused_at_county=1, removed=0) == Decimal("0.3333")
    assert error_rate(town_approved=0, refused_at_county=0, removed=0) is None
