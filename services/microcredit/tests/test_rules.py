"""Boundary tests of the pure microcredit rules (no database, no Kafka)."""

import datetime as dt
from decimal import Decimal

import pytest
from mc_support import resident_id

from fupin_kit.ids import age_on
from microcredit.rules import (
    DEFAULT_POLICY,
    ProductPolicy,
    add_months,
    available_amount,
    balance_segments,
    days_active,
    eligibility_reasons,
    interest_subsidy,
    is_overdue,
    maturity_date,
    quarter_bounds,
    risk_compensation,
)

D = Decimal
CHECK_DAY = dt.date(2020, 6, 15)


def reasons(**overrides: object) -> list[str]:
    args: dict[str, object] = dict(household_status="registered", labor="full", age=40,
                                   household_outstanding=D("0.00"), household_in_default=False,
                                   policy=DEFAULT_POLICY)
    args.update(overrides)
    return eligibility_reasons(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("born, in_range", [
    (dt.date(2002, 6, 15), True),    # 18 exactly on the day of the check
    (dt.date(2002, 6, 16), False),   # 17, turns 18 tomorrow
    (dt.date(1955, 6, 15), True),    # 65 exactly: the 65th birthday is the day of the check
    (dt.date(1954, 6, 16), True),    # still 65: the 66th birthday is tomorrow
    (dt.date(1954, 6, 15), False),   # 66 today
])
def test_age_bounds_from_the_id_number(born: dt.date, in_range: bool) -> None:
    age = age_on(resident_id(born), CHECK_DAY)
    assert ("age_out_of_range" not in reasons(age=age)) is in_range


def test_ages_17_18_65_66() -> None:
    assert "age_out_of_range" in reasons(age=17)
    assert reasons(age=18) == []
    assert reasons(age=65) == []
    assert "age_out_of_range" in reasons(age=66)


@pytest.mark.parametrize("status", ["registered", "exited", "returned"])
def test_registered_exited_and_returned_are_registered_poor(status: str) -> None:
    assert reasons(household_status=status) == []


@pytest.mark.parametrize("status", [None, "identified", "town_verified", "rejected", "removed"])
def test_other_statuses_are_not_registered_poor(status: str | None) -> None:
    assert reasons(household_status=status, labor=None if status is None else "full") == ["not_registered_poor"]


def test_labor_none_and_every_reason_in_contract_order() -> None:
    assert reasons(labor="partial") == []
    assert reasons(labor="none") == ["no_labor_capacity"]
    assert reasons(household_status="removed", age=70, labor="none", household_outstanding=D("50000.00"),
                   household_in_default=True) == [
        "not_registered_poor", "age_out_of_range", "no_labor_capacity", "cap_reached", "household_in_default"]


def test_cap_reached_exactly_at_the_cap() -> None:
    assert reasons(household_outstanding=D("49999.99")) == []
    assert available_amount(D("49999.99"), DEFAULT_POLICY) == D("0.01")
    assert reasons(household_outstanding=D("50000.00")) == ["cap_reached"]
    assert available_amount(D("60000.00"), DEFAULT_POLICY) == D("0.00")


def test_a_policy_changes_the_bounds() -> None:
    policy = ProductPolicy(household_cap=D("80000.00"), min_age=16, max_age=70)
    assert eligibility_reasons(household_status="registered", labor="full", age=16, household_outstanding=D("50000"),
                               household_in_default=False, policy=policy) == []


def test_quarters_and_the_leap_year() -> None:
    start, end = quarter_bounds("2020Q1")
    assert (start, end) == (dt.date(2020, 1, 1), dt.date(2020, 4, 1))
    assert (end - start).days == 91
    assert (lambda s, e: (e - s).days)(*quarter_bounds("2021Q1")) == 90
    assert quarter_bounds("2020Q4") == (dt.date(2020, 10, 1), dt.date(2021, 1, 1))
    for bad in ("2020Q5", "2020Q0", "2020-Q1", "20Q1", "", "0000Q1", "9999Q4"):
        with pytest.raises(ValueError):
            quarter_bounds(bad)


def segments(**kw: object) -> list[tuple[Decimal, int]]:
    start, end = quarter_bounds(str(kw.pop("period", "2020Q1")))
    args: dict[str, object] = dict(amount=D("50000.00"), disbursed_on=dt.date(2019, 12, 1), closed_on=None,
                                   repayments=[], start=start, end=end)
    args.update(kw)
    return balance_segments(**args)  # type: ignore[arg-type]


def subsidy(segs: list[tuple[Decimal, int]], rate: str = "4.35", claimed: str = "99999.00") -> Decimal:
    return interest_subsidy(segments=segs, annual_rate=D(rate), benchmark_rate=D("4.35"), claimed=D(claimed))


def test_whole_leap_quarter_counts_91_days() -> None:
    segs = segments()
    assert segs == [(D("50000.00"), 91)]
    # 50000 × 4.35 % × 91 / 360 = 549.7916… → 549.79
    assert subsidy(segs) == D("549.79")


def test_rate_above_benchmark_is_subsidised_at_the_benchmark_only() -> None:
    assert subsidy(segments(), rate="6.00") == D("549.79")
    # below the benchmark the loan's own rate: 50000 × 3.915 % × 91 / 360 = 494.8125 → 494.81
    assert subsidy(segments(), rate="3.915") == D("494.81")


def test_disbursed_mid_quarter_counts_from_the_disbursement_day() -> None:
    segs = segments(disbursed_on=dt.date(2020, 2, 15))   # Feb 15..29 (15 days, leap) + March 31 = 46
    assert days_active(segs) == 46
    # 50000 × 0.0435 × 46 / 360 = 277.9166… → 277.92
    assert subsidy(segs) == D("277.92")
    assert days_active(segments(disbursed_on=dt.date(2020, 3, 31))) == 1
    assert segments(disbursed_on=dt.date(2020, 4, 1)) == []


def test_repaid_mid_quarter_stops_the_day_before_repayment() -> None:
    segs = segments(repayments=[(dt.date(2020, 2, 1), D("50000.00"))], closed_on=dt.date(2020, 2, 1))
    assert segs == [(D("50000.00"), 31)]
    # 50000 × 0.0435 × 31 / 360 = 187.2916… → 187.29
    assert subsidy(segs) == D("187.29")
    assert segments(closed_on=dt.date(2020, 1, 1), repayments=[(dt.date(2020, 1, 1), D("50000.00"))]) == []
    assert days_active(segments(closed_on=dt.date(2020, 1, 2))) == 1


def test_partial_repayment_lowers_the_daily_balance_from_its_day() -> None:
    segs = segments(repayments=[(dt.date(2019, 12, 20), D("10000.00")), (dt.date(2020, 3, 1), D("20000.00"))])
    assert segs == [(D("40000.00"), 60), (D("20000.00"), 31)]
    # (40000 × 60 + 20000 × 31) × 0.0435 / 360 = 3020000 × 0.0435 / 360 = 364.9166… → 364.92
    assert subsidy(segs) == D("364.92")


def test_two_repayments_on_one_day_and_default_close() -> None:
    segs = segments(repayments=[(dt.date(2020, 1, 11), D("1000.00")), (dt.date(2020, 1, 11), D("1000.00"))],
                    closed_on=dt.date(2020, 1, 21))
    assert segs == [(D("50000.00"), 10), (D("48000.00"), 10)]


def test_half_up_to_the_fen_and_capped_at_the_claim() -> None:
    # 1000 × 4.35 % × 1 / 360 = 0.120833… → 0.12; 3000 × 4.35 % × 1/360 = 0.3625 → 0.36; 9000: 1.0875 → 1.09
    assert subsidy([(D("1000.00"), 1)]) == D("0.12")
    assert subsidy([(D("9000.00"), 1)]) == D("1.09")
    assert subsidy([(D("2000.00"), 90)], rate="3.60") == D("18.00")  # 2000 × 3.6 % × 90 / 360 = 18 exactly
    assert subsidy(segments(), claimed="500.00") == D("500.00")
    assert subsidy(segments(), claimed="549.79") == D("549.79")
    assert subsidy([], claimed="10.00") == D("0.00")


def test_compensation_is_70_percent_half_up() -> None:
    assert risk_compensation(D("10000.00"), DEFAULT_POLICY) == D("7000.00")
    assert risk_compensation(D("0.05"), DEFAULT_POLICY) == D("0.04")   # 0.035 → 0.04 half-up
    assert risk_compensation(D("12345.67"), DEFAULT_POLICY) == D("8641.97")  # 8641.969 → 8641.97
    assert risk_compensation(D("0.00"), DEFAULT_POLICY) == D("0.00")


def test_maturity_and_overdue() -> None:
    assert add_months(dt.date(2020, 1, 31), 1) == dt.date(2020, 2, 29)
    assert maturity_date(dt.date(2020, 1, 15), 36) == dt.date(2023, 1, 15)
    assert not is_overdue(status="active", maturity=dt.date(2023, 1, 15), today=dt.date(2023, 1, 15))
    assert is_overdue(status="active", maturity=dt.date(2023, 1, 15), today=dt.date(2023, 1, 16))
    assert not is_overdue(status="repaid", maturity=dt.date(2023, 1, 15), today=dt.date(2024, 1, 1))
