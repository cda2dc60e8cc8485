"""Pure rules of contract §7 at their boundaries (no database)."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from assistance.assessment.rules import Actuals, Targets, assess, error_rate, ratio, reference_date, score
from assistance.helpers.rules import at_capacity, coverage, four_places, round_half_up
from assistance.plans.rules import causes_unaddressed, may_move, reference_allowed
from assistance.policies.rules import DEFAULT_POLICY, Policy, Weights, weights_sum_to_one
from assistance.teams.rules import (
    add_years,
    days_in_year,
    days_on_team,
    required_days,
    team_lacks,
    withdrawal_check,
)

EXAMPLE_TARGETS = Targets(households_to_exit=1200, villages_to_exit=8, funds_to_spend=Decimal("60000000.00"))


def example(**changes: object) -> Actuals:
    """Contract §7's worked example: county 610723, 2019, assessed 2020-01-15."""
    values: dict[str, object] = dict(households_exited=1262 - 14, villages_exited=8,
                                     funds_spent=Decimal("52800000.00"), still_poor_households=2960,
                                     paired_households=2886, households_registered=9850, households_removed=118,
                                     misuse_findings=0)
    values.update(changes)
    return Actuals(**values)  # type: ignore[arg-type]


def all_paired(**changes: object) -> Actuals:
    """The example with every still-poor household paired (coverage 1)."""
    return example(paired_households=2960, **changes)


# --- assessment -----------------------------------------------------------------------------------------------

def test_worked_example_is_excellent_at_97_10() -> None:
    outcome = assess(EXAMPLE_TARGETS, example(), DEFAULT_POLICY)
    assert outcome.shown_ratios() == {"households": "1.0000", "villages": "1.0000", "funds": "0.8800",
                                      "helper_coverage": "0.9750"}
    assert outcome.error_rate == Decimal("0.0120")
    assert outcome.score == Decimal("97.10") and str(outcome.score) == "97.10"
    assert (outcome.vetoes, outcome.reasons, outcome.verdict) == ([], [], "excellent")


def test_worked_example_with_seven_villages_fails_the_annual_task() -> None:
    outcome = assess(EXAMPLE_TARGETS, example(villages_exited=7), DEFAULT_POLICY)
    assert outcome.score == Decimal("94.60")
    assert outcome.reasons == ["village_target_missed"] and outcome.vetoes == []
    assert outcome.verdict == "fail"


def test_worked_example_with_210_removed_is_vetoed_whatever_the_score() -> None:
    outcome = assess(EXAMPLE_TARGETS, example(households_removed=210), DEFAULT_POLICY)
    assert outcome.error_rate == Decimal("0.0213")
    assert outcome.score == Decimal("97.10")
    assert outcome.vetoes == ["verification_error_rate"] and outcome.verdict == "fail"


def test_error_rate_veto_boundary_is_above_two_percent() -> None:
    assert error_rate(197, 9850) == Decimal("0.0200")
    assert assess(EXAMPLE_TARGETS, example(households_removed=197), DEFAULT_POLICY).vetoes == []
    assert error_rate(198, 9850) == Decimal("0.0201")
    assert assess(EXAMPLE_TARGETS, example(households_removed=198), DEFAULT_POLICY).vetoes == [
        "verification_error_rate"]
    assert error_rate(0, 0) == Decimal("0.0000")


def test_funds_misuse_is_a_veto() -> None:
    outcome = assess(EXAMPLE_TARGETS, example(misuse_findings=1), DEFAULT_POLICY)
    assert outcome.vetoes == ["funds_misuse"] and outcome.verdict == "fail"


def test_household_target_missed_by_one() -> None:
    assert assess(EXAMPLE_TARGETS, example(households_exited=1199), DEFAULT_POLICY).reasons == [
        "household_target_missed"]
    assert assess(EXAMPLE_TARGETS, example(households_exited=1200), DEFAULT_POLICY).reasons == []


def test_verdict_thresholds() -> None:
    targets = Targets(households_to_exit=0, villages_to_exit=0, funds_to_spend=Decimal(100))
    # households and villages 1 (zero targets), coverage 1: 0.8 + 0.2 × funds ratio
    assert assess(targets, all_paired(funds_spent=Decimal(50)), DEFAULT_POLICY).score == Decimal("90.00")
    assert assess(targets, all_paired(funds_spent=Decimal(50)), DEFAULT_POLICY).verdict == "excellent"
    # the rounded score decides: 89.996 shows as 90.00 (excellent), 89.994 as 89.99 (pass)
    assert assess(targets, all_paired(funds_spent=Decimal("49.98")), DEFAULT_POLICY).verdict == "excellent"
    assert assess(targets, all_paired(funds_spent=Decimal("49.97")), DEFAULT_POLICY).score == Decimal("89.99")
    assert assess(targets, all_paired(funds_spent=Decimal("49.97")), DEFAULT_POLICY).verdict == "pass"
    low = Policy(weights=Weights(households=Decimal("0.30"), villages=Decimal("0.10"), funds=Decimal("0.50"),
                                 helper_coverage=Decimal("0.10")))
    assert assess(targets, all_paired(funds_spent=Decimal(0)), low).score == Decimal("50.00")
    assert assess(targets, all_paired(funds_spent=Decimal(0)), low).reasons == ["score_below_pass"]
    assert assess(targets, all_paired(funds_spent=Decimal(20)), low).score == Decimal("60.00")
    assert assess(targets, all_paired(funds_spent=Decimal(20)), low).verdict == "pass"


def test_ratios_are_capped_and_zero_targets_count_as_met() -> None:
    assert ratio(Fraction(1300), Fraction(1200)) == 1
    assert ratio(Fraction(0), Fraction(0)) == 1
    assert ratio(Fraction(7), Fraction(8)) == Fraction(7, 8)
    assert coverage(0, 0) == 1 and coverage(2886, 2960) == Fraction(39, 40)


def test_ratios_are_used_exactly_and_the_score_rounds_half_up() -> None:
    # 1/3 shown as 0.3333 but used exactly: 100 × 0.2 × 1/3 + 80 = 86.666… → 86.67
    targets = Targets(households_to_exit=0, villages_to_exit=0, funds_to_spend=Decimal(3))
    assert assess(targets, all_paired(funds_spent=Decimal(1)), DEFAULT_POLICY).score == Decimal("86.67")
    assert score({"households": Fraction(1, 8)}, Policy(weights=Weights(households=Decimal("0.1")))) == Decimal(
        "1.25")
    assert round_half_up(Fraction(125, 1000), 2) == Decimal("0.13")
    assert four_places(Fraction(1, 3)) == Decimal("0.3333")
    assert four_places(Fraction(2, 3)) == Decimal("0.6667")


def test_reference_date_is_final_after_the_31st() -> None:
    assert reference_date(2019, dt.date(2020, 1, 15)) == (dt.date(2019, 12, 31), True)
    assert reference_date(2019, dt.date(2020, 1, 1)) == (dt.date(2019, 12, 31), True)
    assert reference_date(2019, dt.date(2019, 12, 31)) == (dt.date(2019, 12, 31), False)
    assert reference_date(2019, dt.date(2019, 6, 1)) == (dt.date(2019, 6, 1), False)


# --- policies -------------------------------------------------------------------------------------------------

def test_default_weights_sum_to_one_and_others_do_not() -> None:
    assert weights_sum_to_one(DEFAULT_POLICY.weights)
    assert not weights_sum_to_one(Weights(helper_coverage=Decimal("0.21")))
    assert not weights_sum_to_one(Weights(helper_coverage=Decimal("0.19")))
    assert DEFAULT_POLICY.helper_max_households == 5 and DEFAULT_POLICY.team_min_days == 200


# --- helpers --------------------------------------------------------------------------------------------------

def test_capacity_boundary() -> None:
    assert not at_capacity(4, 5)
    assert at_capacity(5, 5)
    assert at_capacity(6, 5)


# --- teams ----------------------------------------------------------------------------------------------------

def test_required_days_of_a_member_from_1_april_2019_is_151() -> None:
    on = days_on_team(2019, dt.date(2019, 4, 1), None)
    assert on == 275
    assert required_days(200, on, 2019) == 151


def test_required_days_full_year_leap_year_and_none() -> None:
    assert required_days(200, days_on_team(2019, dt.date(2018, 5, 1), None), 2019) == 200
    assert days_in_year(2020) == 366 and days_on_team(2020, dt.date(2020, 1, 1), None) == 366
    assert required_days(200, 183, 2020) == 100  # 200 × 183 / 366 = 100 exactly: no rounding up
    assert required_days(200, 184, 2020) == 101
    assert required_days(200, 0, 2019) == 0
    assert days_on_team(2019, dt.date(2020, 1, 1), None) == 0


def test_days_on_team_counts_the_day_joined_not_the_day_left() -> None:
    assert days_on_team(2019, dt.date(2019, 3, 1), dt.date(2019, 3, 2)) == 1
    assert days_on_team(2019, dt.date(2018, 3, 1), dt.date(2019, 1, 1)) == 0
    assert days_on_team(2019, dt.date(2019, 12, 31), None) == 1


def test_withdrawal_rule() -> None:
    exited = dt.date(2017, 6, 30)
    ok = withdrawal_check(poor_households=0, village_exited_on=exited, stay_years=3, withdrawn_on=dt.date(2020, 6, 30))
    assert ok.allowed and ok.stay_until == dt.date(2020, 6, 30)
    early = withdrawal_check(poor_households=0, village_exited_on=exited, stay_years=3,
                             withdrawn_on=dt.date(2020, 6, 29))
    assert early.reasons == ["exit_not_stable"] and early.stay_until == dt.date(2020, 6, 30)
    blocked = withdrawal_check(poor_households=4, village_exited_on=None, stay_years=3,
                               withdrawn_on=dt.date(2020, 6, 29))
    assert blocked.reasons == ["poor_households_remain", "village_not_exited"] and blocked.poor_households == 4
    assert add_years(dt.date(2016, 2, 29), 3) == dt.date(2019, 2, 28)


def test_team_lacks() -> None:
    assert team_lacks(roles=["first_secretary", "captain", "member"],
                      backgrounds=["cadre", "agri_technician", "other"], min_members=3) == []
    assert team_lacks(roles=["captain", "member"], backgrounds=["cadre", "other"], min_members=3) == [
        "first_secretary", "technician", "members"]
    assert team_lacks(roles=["first_secretary", "member", "member"],
                      backgrounds=["cadre", "college_graduate_official", "other"], min_members=3) == []


# --- plans ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("current", "target", "allowed"), [
    ("planned", "in_progress", True), ("planned", "done", True), ("in_progress", "done", True),
    ("in_progress", "in_progress", False), ("done", "done", False), ("done", "in_progress", False),
    ("planned", "planned", False), ("in_progress", "planned", False),
])
def test_measures_move_forward_only(current: str, target: str, allowed: bool) -> None:
    assert may_move(current, target) is allowed


def test_references_by_line() -> None:
    assert reference_allowed("education", "grant")
    assert reference_allowed("industry_employment", "loan")
    assert not reference_allowed("industry_employment", "grant")
    assert not reference_allowed("education", "loan")
    assert not reference_allowed("relocation", "loan")
    assert reference_allowed("relocation", None)


def test_causes_unaddressed() -> None:
    assert causes_unaddressed(["illness", "lack_skills", "lack_funds"], ["lack_skills"]) == ["illness", "lack_funds"]
    assert causes_unaddressed(["illness"], ["illness", "other"]) == []
    assert causes_unaddressed([], ["illness"]) == []
