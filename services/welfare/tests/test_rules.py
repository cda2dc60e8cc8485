"""Boundary tests of the pure welfare rules (no database, no Kafka), with both worked examples of contract §8."""

import datetime as dt
from decimal import Decimal

import pytest

from welfare.assistance.rules import available_under_cap, within_cap
from welfare.cases.rules import (
    Assessment,
    Member,
    amount_for,
    due_amount,
    member_category,
    monthly_amount,
    per_capita_above_line,
    timeline_for,
)
from welfare.months import add_months, first_day, last_day
from welfare.policies.rules import WelfarePolicy, default_policy, monthly_standard, poverty_line
from welfare.rangers.rules import instalment, ranger_reasons
from welfare.relocations.rules import relocation_subsidy

D = Decimal
POLICY_2020 = default_policy(2020)


def months_of(year: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, 13)]


# --- policies ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("year, line, standard", [
    (2014, "2800", "233.33"), (2015, "2855", "237.92"), (2016, "2952", "246.00"), (2017, "3335", "277.92"),
    (2018, "3535", "294.58"), (2019, "3747", "312.25"), (2020, "4000", "333.33"), (2021, "4000", "333.33"),
    (2035, "4000", "333.33")])
def test_default_lines_and_standards(year: int, line: str, standard: str) -> None:
    policy = default_policy(year)
    assert policy.poverty_line == D(line)
    assert policy.minimum_living_standard == D(standard)
    assert monthly_standard(poverty_line(year)) == D(standard)


def test_default_terms() -> None:
    p = POLICY_2020
    assert (p.supplements.elderly, p.supplements.minor, p.supplements.severe_disability) == (
        D("0.10"), D("0.10"), D("0.20"))
    assert (p.gradual_exit_months, p.gradual_exit_months_disabled) == (6, 12)
    assert p.temporary_assistance_cap == D("5000.00")
    assert p.ranger_allowance == D("10000.00")
    assert (p.ranger_min_age, p.ranger_max_age, p.rangers_per_household) == (18, 60, 1)
    assert p.relocation_subsidy == D("25000.00")


# --- 低保: the June 2020 example ---------------------------------------------------------------------------------

JUNE = dt.date(2020, 6, 1)
HEAD = Member("head", dt.date(1957, 3, 1))          # 63 on 2020-06-01
SPOUSE = Member("spouse", dt.date(1962, 1, 15))     # 58, disability grade 2
SON = Member("son", dt.date(1986, 5, 5))            # 34
GRANDDAUGHTER = Member("gd", dt.date(2011, 2, 2))   # 9
FAMILY = [HEAD, SPOUSE, SON, GRANDDAUGHTER]


def test_june_2020_example_to_the_fen() -> None:
    result = monthly_amount(FAMILY, JUNE, D("9600.00"), {"spouse": 2}, POLICY_2020)
    assert result.members == 4
    assert result.standard == D("333.33")
    assert result.base == D("533.32")
    assert {s.category: (s.count, s.amount) for s in result.supplements} == {
        "elderly": (1, D("33.33")), "severe_disability": (1, D("66.67")), "minor": (1, D("33.33"))}
    assert result.amount == D("666.65")
    assert result.breakdown()["base"] == "533.32"


def test_june_2020_example_through_due_amount() -> None:
    assessments = [Assessment(dt.date(2020, 6, 1), D("9600.00"), {"spouse": 2})]
    due = due_amount("2020-06", opened_on=dt.date(2020, 6, 1), closed_on=None, assessments=assessments,
                     members=FAMILY, policy_of=default_policy)
    assert due is not None and due.amount == D("666.65")


@pytest.mark.parametrize("born, category", [
    (dt.date(1960, 6, 1), "elderly"),     # 60 exactly on the first day of the month
    (dt.date(1960, 6, 2), None),          # 59 on the first day, 60 the next day
    (dt.date(2002, 6, 2), "minor"),       # 17 on the first day
    (dt.date(2002, 6, 1), None),          # 18 on the first day
])
def test_age_boundaries_on_the_first_day(born: dt.date, category: str | None) -> None:
    result = monthly_amount([Member("m", born)], JUNE, D("0"), {}, POLICY_2020)
    assert [s.category for s in result.supplements] == ([category] if category else [])


@pytest.mark.parametrize("grade, age, category", [
    (1, 40, "severe_disability"), (2, 40, "severe_disability"), (3, 40, None), (4, 40, None),
    (2, 70, "severe_disability"), (3, 70, "elderly"), (None, 8, "minor"), (1, 8, "severe_disability")])
def test_largest_supplement_applies(grade: int | None, age: int, category: str | None) -> None:
    assert member_category(age, grade, POLICY_2020) == category


def test_supplement_shares_from_the_policy() -> None:
    from dataclasses import replace

    from welfare.policies.rules import Supplements
    policy = replace(POLICY_2020, supplements=Supplements(elderly=D("0.30"), minor=D("0.10"),
                                                          severe_disability=D("0.20")))
    assert member_category(70, 1, policy) == "elderly"


def test_base_is_never_negative_and_division_is_rounded_first() -> None:
    one = [Member("a", dt.date(1980, 1, 1))]
    # 4,000.00 a year is exactly the line: 333.33 − round(333.333…) = 0.00
    assert monthly_amount(one, JUNE, D("4000.00"), {}, POLICY_2020).base == D("0.00")
    assert monthly_amount(one, JUNE, D("4100.00"), {}, POLICY_2020).base == D("0.00")
    # 100.00 / 12 = 8.333… → 8.33
    assert monthly_amount(one, JUNE, D("100.00"), {}, POLICY_2020).base == D("325.00")
    # 100.06 / 12 = 8.338… → 8.34
    assert monthly_amount(one, JUNE, D("100.06"), {}, POLICY_2020).base == D("324.99")


def test_members_born_after_the_first_day_are_not_counted() -> None:
    baby = Member("baby", dt.date(2020, 6, 2))
    assert monthly_amount([HEAD, baby], JUNE, D("0"), {}, POLICY_2020).members == 1


@pytest.mark.parametrize("income, above", [("12000.00", False), ("12000.03", True), ("11999.99", False)])
def test_income_above_line_is_strictly_above(income: str, above: bool) -> None:
    assert per_capita_above_line(D(income), 3, D("4000")) is above


# --- gradual exit: the contract's second example ------------------------------------------------------------------

THREE = [Member("a", dt.date(1990, 1, 1)), Member("b", dt.date(1975, 3, 3)), Member("c", dt.date(2000, 5, 5))]
OPENING = Assessment(dt.date(2020, 1, 6), D("7200.00"))
EXIT = Assessment(dt.date(2020, 5, 20), D("13500.00"))


def pays(assessments: list[Assessment], months: list[str], members: list[Member] = THREE,
         closed_on: dt.date | None = None) -> dict[str, Decimal]:
    paid = {}
    for month in months:
        due = due_amount(month, opened_on=dt.date(2020, 1, 6), closed_on=closed_on, assessments=assessments,
                         members=members, policy_of=default_policy)
        if due is not None:
            paid[month] = due.amount
    return paid


def test_gradual_exit_example_2020_total() -> None:
    paid = pays([OPENING, EXIT], months_of(2020) + months_of(2021))
    assert list(paid) == [f"2020-{m:02d}" for m in range(1, 12)]
    assert set(paid.values()) == {D("399.99")}
    assert sum(paid.values()) == D("4399.89")
    timeline = timeline_for(OPENING.assessed_on, [OPENING, EXIT], THREE, default_policy)
    assert timeline.state == "gradual_exit"
    assert timeline.closed_on() == dt.date(2020, 11, 30)


def test_gradual_exit_with_a_disabled_member_pays_through_may_2021() -> None:
    opening = Assessment(OPENING.assessed_on, OPENING.annual_income, {"b": 4})
    exit_ = Assessment(EXIT.assessed_on, EXIT.annual_income, {"b": 4})
    paid = pays([opening, exit_], months_of(2020) + months_of(2021))
    assert list(paid)[-1] == "2021-05"
    assert len(paid) == 17
    assert set(paid.values()) == {D("399.99")}


def test_gradual_exit_pays_month_r_amount_even_when_standard_changes() -> None:
    """R+1 … R+N pay the amount of month R, whatever the next year's policy says."""
    exit_ = Assessment(dt.date(2020, 11, 3), D("13500.00"))
    from dataclasses import replace

    def policy_of(year: int) -> WelfarePolicy:
        return replace(default_policy(year), minimum_living_standard=D("400.00")) if year == 2021 else \
            default_policy(year)
    for month in ("2020-12", "2021-01", "2021-05"):
        due = due_amount(month, opened_on=dt.date(2020, 1, 6), closed_on=None, assessments=[OPENING, exit_],
                         members=THREE, policy_of=policy_of)
        assert due is not None and due.amount == D("399.99")
    assert due_amount("2021-06", opened_on=dt.date(2020, 1, 6), closed_on=None, assessments=[OPENING, exit_],
                      members=THREE, policy_of=policy_of) is None


def test_reactivation_example_active_from_september_at_49_99() -> None:
    again = Assessment(dt.date(2020, 8, 12), D("11400.00"))
    paid = pays([OPENING, EXIT, again], months_of(2020))
    assert paid["2020-08"] == D("399.99")
    assert paid["2020-09"] == D("49.99")
    assert paid["2020-12"] == D("49.99")
    timeline = timeline_for(OPENING.assessed_on, [OPENING, EXIT, again], THREE, default_policy)
    assert timeline.state == "active" and timeline.closes_from is None


def test_above_line_during_gradual_exit_changes_nothing() -> None:
    more = Assessment(dt.date(2020, 7, 1), D("20000.00"))
    assert pays([OPENING, EXIT, more], months_of(2020)) == pays([OPENING, EXIT], months_of(2020))


def test_assessment_at_the_line_keeps_the_case_active() -> None:
    at_line = Assessment(dt.date(2020, 5, 20), D("12000.00"))  # 4,000.00 per capita: not above
    paid = pays([OPENING, at_line], months_of(2020))
    assert len(paid) == 5 and "2020-06" not in paid  # June's base is 999.99 − 1,000.00 < 0: nothing


def test_assessment_counts_from_the_month_after() -> None:
    lower = Assessment(dt.date(2020, 3, 1), D("3600.00"))  # dated on the first day: counts from April
    paid = pays([OPENING, lower], ["2020-03", "2020-04"])
    assert paid == {"2020-03": D("399.99"), "2020-04": D("699.99")}


def test_closure_and_opening_month_bounds() -> None:
    assert "2020-01" in pays([OPENING], ["2020-01"])  # opened on the 6th: January is due
    closed = pays([OPENING], ["2020-03", "2020-04"], closed_on=dt.date(2020, 3, 1))
    assert list(closed) == ["2020-03"]  # open on 1 March only: March is due, April is not


# --- rangers ------------------------------------------------------------------------------------------------------

def test_ranger_instalments_sum_to_the_allowance() -> None:
    parts = [instalment(D("10000.00"), m) for m in range(1, 13)]
    assert parts[:5] == [D("833.33"), D("833.34"), D("833.33"), D("833.33"), D("833.34")]
    assert sum(parts) == D("10000.00")
    assert sum(instalment(D("9999.99"), m) for m in range(1, 13)) == D("9999.99")
    with pytest.raises(ValueError):
        instalment(D("10000.00"), 13)


def ranger(**overrides: object) -> list[str]:
    args: dict[str, object] = dict(household_status="registered", labor="full", age=40, household_posts=0,
                                   policy=POLICY_2020)
    args.update(overrides)
    return ranger_reasons(**args)  # type: ignore[arg-type]


def test_ranger_reasons_at_their_boundaries() -> None:
    assert ranger() == []
    assert ranger(age=18) == [] and ranger(age=60) == []
    assert ranger(age=17) == ["age_out_of_range"] and ranger(age=61) == ["age_out_of_range"]
    assert ranger(labor="partial") == [] and ranger(labor="none") == ["no_labor_capacity"]
    assert ranger(household_posts=1) == ["household_has_ranger"]
    assert ranger(household_status="exited") == [] and ranger(household_status="returned") == []
    assert ranger(household_status="removed") == ["not_registered_poor"]
    assert ranger(household_status=None, labor=None, age=None) == ["not_registered_poor"]
    assert ranger(household_status="identified", labor="none", age=70, household_posts=1) == [
        "not_registered_poor", "no_labor_capacity", "age_out_of_range", "household_has_ranger"]


# --- temporary assistance, relocation, months ---------------------------------------------------------------------

def test_temporary_assistance_cap_boundaries() -> None:
    cap = D("5000.00")
    assert within_cap(D("5000.00"), cap, D("0.00"))
    assert not within_cap(D("5000.01"), cap, D("0.00"))
    assert within_cap(D("0.01"), cap, D("4999.99")) and not within_cap(D("0.02"), cap, D("4999.99"))
    assert available_under_cap(cap, D("6000.00")) == D("0.00")


def test_relocation_subsidy_per_person() -> None:
    assert relocation_subsidy(D("25000.00"), 4) == D("100000.00")


def test_month_helpers() -> None:
    assert add_months("2020-11", 2) == "2021-01"
    assert first_day("2020-02") == dt.date(2020, 2, 1) and last_day("2020-02") == dt.date(2020, 2, 29)


def test_amount_for_uses_the_year_of_the_month() -> None:
    one = [Member("a", dt.date(1980, 1, 1))]
    assert amount_for("2019-12", [Assessment(dt.date(2019, 1, 1), D("0"))], one, default_policy).base == D("312.25")


def test_division_prefix_of_city_county_town_village() -> None:
    from welfare.cases.service import division_prefix
    assert division_prefix("610000") == "61"
    assert division_prefix("610700") == "6107"
    assert division_prefix("610723") == "610723"
    assert division_prefix("610723101") == "610723101"
    assert division_prefix("610723101001") == "610723101001"
