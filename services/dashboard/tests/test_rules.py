"""The war map's numbers at their boundaries (pure functions)."""

import datetime as dt
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


def test_exit_year_is_chinas() -> None:
    """31 Dec 16:00 UTC is 1 Jan 00:00 in China Standard Time: the exit counts in the new year."""
    assert rules.exit_year(dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)) == 2027
    assert rules.exit_year(dt.datetime(2026, 12, 31, 15, 59, 59, tzinfo=dt.UTC)) == 2026
    assert rules.exit_year(dt.datetime(2026, 12, 31, 16, 0)) == 2027  # naive: UTC
    assert rules.exit_year(dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))) == 2027


def test_a_benefit_waits_until_finance_pays_reverses_or_it_is_cancelled() -> None:
    amount = Decimal("666.65")
    assert rules.benefit_contribution(program="minimum_living", amount=amount, due=True, cancelled=False,
                                      settled=False) == {"pending.minimum_living": amount}
    for cancelled, settled in ((True, False), (False, True), (True, True)):
        assert rules.benefit_contribution(program="minimum_living", amount=amount, due=True, cancelled=cancelled,
                                          settled=settled) == {}
    # not recorded by finance yet (only a cancellation or a payment seen so far): nothing waits
    assert rules.benefit_contribution(program=None, amount=None, due=False, cancelled=True, settled=False) == {}
    assert rules.benefit_contribution(program="eco_rangers", amount=Decimal("0.00"), due=True, cancelled=False,
                                      settled=False) == {}
    assert rules.BENEFIT_PROGRAMS["eco_ranger"] == "eco_rangers"
