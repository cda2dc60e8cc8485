"""Microcredit policy rules (seed §五(十六), contract §2): pure functions, no I/O, tested at their boundaries.

Seed §五(十六): "向有产业发展意愿和条件的贫困户,提供x万元以下、3年以内免担保和免抵押、财政资金全额贴息的小额贷款",
with county risk-compensation funds sharing the losses. The "x" amounts are the contract's shipped defaults.
"""

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from fupin_kit.money import round_fen

ZERO = Decimal("0.00")
ELIGIBLE_STATUSES = frozenset({"registered", "exited", "returned"})  # contract §1: "registered poor"
LABOR_CAPABLE = frozenset({"full", "partial"})
REASONS = ("not_registered_poor", "age_out_of_range", "no_labor_capacity", "cap_reached", "household_in_default")
DAY_COUNT_BASIS = 360  # actual/360, contract §2
PERIOD_PATTERN = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True)
class ProductPolicy:
    """One year's product terms. Rates are percentages a year ("4.35" = 4.35 %); the ratio is a share (0.70)."""

    household_cap: Decimal = Decimal("50000.00")
    max_term_months: int = 36
    min_age: int = 18
    max_age: int = 65
    benchmark_rate: Decimal = Decimal("4.35")
    compensation_ratio: Decimal = Decimal("0.70")


DEFAULT_POLICY = ProductPolicy()


def age_in_range(age: int, policy: ProductPolicy) -> bool:
    """Seed §五(十六) via contract §2: borrowers aged 18 to 65 on the day of the check, both ends included."""
    return policy.min_age <= age <= policy.max_age


def available_amount(household_outstanding: Decimal, policy: ProductPolicy) -> Decimal:
    """What the household may still borrow: the cap less its outstanding principal, never below zero."""
    return max(policy.household_cap - household_outstanding, ZERO)


def eligibility_reasons(*, household_status: str | None, labor: str | None, age: int,
                        household_outstanding: Decimal, household_in_default: bool,
                        policy: ProductPolicy) -> list[str]:
    """Why a person may not borrow (contract §2), in the contract's order; empty when eligible.

    `household_status`/`labor` are None when the person is not in the read model (not registered poor).
    """
    reasons = []
    if household_status not in ELIGIBLE_STATUSES:
        reasons.append("not_registered_poor")
    if not age_in_range(age, policy):
        reasons.append("age_out_of_range")
    if labor is not None and labor not in LABOR_CAPABLE:
        reasons.append("no_labor_capacity")
    if available_amount(household_outstanding, policy) == ZERO:
        reasons.append("cap_reached")
    if household_in_default:
        reasons.append("household_in_default")
    return reasons


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's last day (2020-01-31 + 1 month = 2020-02-29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def maturity_date(disbursed_on: dt.date, term_months: int) -> dt.date:
    """Term end: the loan is overdue from the day after this date if it is still not repaid."""
    return add_months(disbursed_on, term_months)


def is_overdue(*, status: str, maturity: dt.date, today: dt.date) -> bool:
    """Past its term end and not repaid (nor already declared in default)."""
    return status == "active" and maturity < today


def quarter_bounds(period: str) -> tuple[dt.date, dt.date]:
    """`2020Q1` -> (2020-01-01, 2020-04-01): first day and the day after the last (end exclusive)."""
    match = PERIOD_PATTERN.match(period)
    if match is None:
        raise ValueError("must be a quarter such as 2020Q1")
    year, quarter = int(match.group(1)), int(match.group(2))
    if not dt.MINYEAR <= year < dt.MAXYEAR:  # the quarter and the day after it must both be calendar dates
        raise ValueError(f"the year must be between {dt.MINYEAR} and {dt.MAXYEAR - 1}")
    start = dt.date(year, 3 * quarter - 2, 1)
    return start, add_months(start, 3)


def balance_segments(*, amount: Decimal, disbursed_on: dt.date, closed_on: dt.date | None,
                     repayments: Sequence[tuple[dt.date, Decimal]], start: dt.date,
                     end: dt.date) -> list[tuple[Decimal, int]]:
    """Days the loan was active in [start, end) grouped by end-of-day principal outstanding: [(balance, days)].

    Active days run from `disbursed_on` inclusive to `closed_on` (the day it was repaid to zero or declared in
    default) exclusive. A repayment dated d lowers the balance from day d on (the outstanding at the end of day d).
    """
    first = max(start, disbursed_on)
    last = min(end, closed_on) if closed_on is not None else end
    if first >= last:
        return []
    repaid_before = sum((paid for day, paid in repayments if day <= first), ZERO)
    changes = sorted((day, paid) for day, paid in repayments if first < day < last)
    segments, balance, cursor = [], amount - repaid_before, first
    for day, paid in changes:
        if day > cursor:
            segments.append((balance, (day - cursor).days))
            cursor = day
        balance -= paid
    segments.append((balance, (last - cursor).days))
    return [(b, days) for b, days in segments if days > 0]


def days_active(segments: Sequence[tuple[Decimal, int]]) -> int:
    return sum(days for _, days in segments)


def interest_subsidy(*, segments: Sequence[tuple[Decimal, int]], annual_rate: Decimal, benchmark_rate: Decimal,
                     claimed: Decimal) -> Decimal:
    """Contract §2 / seed §五(十六) "财政资金全额贴息" up to the benchmark rate:

    Σ principal outstanding × min(annual_rate, benchmark) × days / 360 over the active days (daily balances),
    rounded half-up to the fen once, and never more than the interest the bank claims. Rates are percentages.
    """
    rate = min(annual_rate, benchmark_rate) / Decimal(100)
    accrued = sum((balance * days for balance, days in segments), Decimal(0)) * rate / DAY_COUNT_BASIS
    return min(round_fen(accrued), claimed)


def risk_compensation(unpaid_principal: Decimal, policy: ProductPolicy) -> Decimal:
    """Seed §五(十六) risk-compensation fund: the policy share (70 % by default) of the unpaid principal, half-up."""
    return round_fen(unpaid_principal * policy.compensation_ratio)
