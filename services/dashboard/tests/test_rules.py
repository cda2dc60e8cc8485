"""The war map's numbers at their boundaries (pure functions)."""

from decimal import Decimal

from dashboard import rules


def test_color_boundaries_are_exact() -> None:
    assert rules.color(300, 10_000) == "red"  # exactly 3%
    assert rules.color(299, 10_000) == "amber"
    assert rules.color(100, 10_000) == "amber"  # exactly 1%
    assert rules.color(99, 10_000) == "green"
    assert rules.color(0, 10_000) == "green"
    # 2.99995% rounds to 0.0300 but is below 3%: amber, compared exactly
    assert rules.incidence(599_99, 2_000_000) == Decimal("0.0300")
    assert rules.color(599_99, 2_000_000) == "amber"


def test_incidence_needs_a_population() -> None:
    assert rules.incidence(5, 0) is None
    assert rules.color(5, 0) == "red" and rules.color(0, 0) == "green"
    assert rules.incidence(1, 3) == Decimal("0.3333")
    assert rules.incidence(1, 8) == Decimal("0.1250")


def test_household_contribution_per_status() -> None:
    registered = rules.household_contribution(status="registered", persons=4, exit_year=None, has_loan=True)
    assert registered == {"households.registered": 1, "poor_persons": 4, "poor_households": 1,
                          "loans.households": 1}
    exited = rules.household_contribution(status="exited", persons=4, exit_year=2026, has_loan=False)
    assert exited == {"households.exited": 1, "exits.households.2026": 1, "poor_households": 1}
    assert rules.household_contribution(status="identified", persons=3, exit_year=None, has_loan=True) == {
        "households.identified": 1}
    assert rules.household_contribution(status=None, persons=0, exit_year=None, has_loan=True) == {}


def test_difference_moves_a_household_between_statuses() -> None:
    old = rules.household_contribution(status="registered", persons=4, exit_year=None, has_loan=False)
    new = rules.household_contribution(status="exited", persons=4, exit_year=2026, has_loan=False)
    assert rules.difference(new, old) == {"households.registered": -1, "households.exited": 1, "poor_persons": -4,
                                          "exits.households.2026": 1}
    assert rules.difference(old, old) == {}


def test_places_and_rates() -> None:
    assert rules.places("610723101201") == ("610723101201", "610723101", "610723")
    assert rules.rate(1, 3) == Decimal("0.3333")
    assert rules.rate(1, 0) == Decimal("0.0000")
    assert rules.pending(Decimal("10.00"), Decimal("12.00")) == Decimal("0.00")
    assert rules.pending(Decimal("10.00"), Decimal("4.50")) == Decimal("5.50")
