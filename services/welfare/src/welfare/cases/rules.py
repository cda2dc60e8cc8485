"""低保 amounts and the case timeline (contract v2 §8): pure functions, no database.

Month M's benefit uses the policy of M's year, the members and their ages on the first day of M, and the income
assessment in effect for M: the latest dated before that day (the opening one counts from the opening month).
"""

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from fupin_kit.ids import age_from_birth
from fupin_kit.money import round_fen
from welfare.months import first_day, last_day, month_from_index, month_index, month_of
from welfare.policies.rules import WelfarePolicy

ZERO = Decimal("0.00")
Category = Literal["severe_disability", "elderly", "minor"]
CATEGORIES: tuple[Category, ...] = ("severe_disability", "elderly", "minor")
ELDERLY_AGE = 60
ADULT_AGE = 18
SEVERE_GRADES = (1, 2)


@dataclass(frozen=True)
class Member:
    member_id: str
    birth_date: dt.date


@dataclass(frozen=True)
class Assessment:
    """An income assessment with the disabled members in force from it (member_id -> grade 1..4)."""

    assessed_on: dt.date
    annual_income: Decimal
    disabled: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SupplementLine:
    category: Category
    count: int
    amount: Decimal


@dataclass(frozen=True)
class MonthlyAmount:
    members: int
    standard: Decimal
    base: Decimal
    supplements: tuple[SupplementLine, ...]

    @property
    def amount(self) -> Decimal:
        return self.base + sum((s.amount for s in self.supplements), ZERO)

    def breakdown(self) -> dict[str, object]:
        return {"base": f"{self.base:.2f}",
                "supplements": [{"category": s.category, "count": s.count, "amount": f"{s.amount:.2f}"}
                                for s in self.supplements]}


def members_on(members: Sequence[Member], day: dt.date) -> list[Member]:
    """The members of the household on `day`: those born by then."""
    return [m for m in members if m.birth_date <= day]


def per_capita_above_line(annual_income: Decimal, persons: int, line: Decimal) -> bool:
    """Per-capita income strictly above the yearly line (at the line still qualifies); no members: above."""
    return persons <= 0 or annual_income / persons > line


def member_category(age: int, grade: int | None, policy: WelfarePolicy) -> Category | None:
    """The largest supplement that applies to one member (ties: the order of CATEGORIES)."""
    applies: list[tuple[Decimal, Category]] = []
    shares = policy.supplements
    if grade in SEVERE_GRADES:
        applies.append((shares.severe_disability, "severe_disability"))
    if age >= ELDERLY_AGE:
        applies.append((shares.elderly, "elderly"))
    if age < ADULT_AGE:
        applies.append((shares.minor, "minor"))
    best: tuple[Decimal, Category] | None = None
    for share, category in applies:
        if best is None or share > best[0]:
            best = (share, category)
    return best[1] if best is not None and best[0] > 0 else None


def supplement_share(category: Category, policy: WelfarePolicy) -> Decimal:
    return Decimal(getattr(policy.supplements, category))


def monthly_amount(members: Sequence[Member], day: dt.date, annual_income: Decimal,
                   disabled: Mapping[str, int], policy: WelfarePolicy) -> MonthlyAmount:
    """Base = max(0, standard × n − round(annual_income / 12)); each member's supplement = round(share × standard)."""
    present = members_on(members, day)
    standard = policy.minimum_living_standard
    base = max(ZERO, standard * len(present) - round_fen(annual_income / 12))
    counts: dict[Category, int] = {}
    for member in present:
        category = member_category(age_from_birth(member.birth_date, day), disabled.get(member.member_id), policy)
        if category is not None:
            counts[category] = counts.get(category, 0) + 1
    lines = tuple(SupplementLine(c, counts[c], round_fen(supplement_share(c, policy) * standard) * counts[c])
                  for c in CATEGORIES if c in counts)
    return MonthlyAmount(members=len(present), standard=standard, base=round_fen(base), supplements=lines)


@dataclass(frozen=True)
class Phase:
    start: int  # month index from which the phase holds
    kind: Literal["active", "gradual_exit"]
    frozen_month: int | None = None  # gradual exit: the month R whose amount is paid


@dataclass(frozen=True)
class Timeline:
    opened: int
    phases: tuple[Phase, ...]
    state: Literal["active", "gradual_exit"]
    closes_from: int | None  # gradual exit: the first month after R+N (closed, reason income_above_line)
    exit_month: int | None = None  # R of the current gradual exit

    def paying_month(self, month: str) -> int | None:
        """For month M: M itself when active, R during a gradual exit, None when the timeline does not pay."""
        index = month_index(month)
        if index < self.opened or (self.closes_from is not None and index >= self.closes_from):
            return None
        phase = [p for p in self.phases if p.start <= index][-1]
        return index if phase.kind == "active" else phase.frozen_month

    def closed_on(self) -> dt.date | None:
        """The last day of R+N when the gradual exit ends the case."""
        if self.closes_from is None:
            return None
        return last_day(month_from_index(self.closes_from - 1))


def case_timeline(opened_on: dt.date, assessments: Sequence[Assessment], *,
                  above_line: Callable[[Assessment], bool], exit_months: Callable[[Assessment], int]) -> Timeline:
    """Replay the assessments after the opening one (in date order): above the line moves an active case to a
    gradual exit (R = the assessment's month, months R+1 … R+N pay month R's amount, closed after R+N); at or below
    the line during a gradual exit makes it active again from the next month; above during one changes nothing."""
    opened = month_index(month_of(opened_on))
    phases = [Phase(opened, "active")]
    state: Literal["active", "gradual_exit"] = "active"
    until: int | None = None
    exit_month: int | None = None
    for assessment in assessments[1:]:
        month = month_index(month_of(assessment.assessed_on))
        if state == "gradual_exit" and until is not None and month > until:
            break  # the case had closed; nothing after it counts
        if state == "active" and above_line(assessment):
            state, exit_month, until = "gradual_exit", month, month + exit_months(assessment)
            phases.append(Phase(month + 1, "gradual_exit", month))
        elif state == "gradual_exit" and not above_line(assessment):
            state, until, exit_month = "active", None, None
            phases.append(Phase(month + 1, "active"))
    phases.sort(key=lambda p: p.start)  # stable: of two phases starting together the later one wins
    return Timeline(opened=opened, phases=tuple(phases), state=state,
                    closes_from=None if until is None else until + 1, exit_month=exit_month)


def assessment_in_effect(assessments: Sequence[Assessment], month: str) -> Assessment:
    """The latest assessment dated before the first day of `month`; the opening one (first) counts from opening."""
    day = first_day(month)
    chosen = assessments[0]
    for assessment in assessments[1:]:
        if assessment.assessed_on < day:
            chosen = assessment
    return chosen


def is_open_in(month: str, *, opened_on: dt.date, closed_on: dt.date | None) -> bool:
    """Open on at least one day of `month`."""
    return opened_on <= last_day(month) and (closed_on is None or closed_on >= first_day(month))


PolicyOf = Callable[[int], WelfarePolicy]


def timeline_for(opened_on: dt.date, assessments: Sequence[Assessment], members: Sequence[Member],
                 policy_of: PolicyOf) -> Timeline:
    """The timeline with the contract's tests: per-capita income (members on the assessment day) against the line of
    the assessment's year; N from that year's policy, the longer one when the assessment lists a disabled member."""
    def above(a: Assessment) -> bool:
        return per_capita_above_line(a.annual_income, len(members_on(members, a.assessed_on)),
                                     policy_of(a.assessed_on.year).poverty_line)

    def months(a: Assessment) -> int:
        policy = policy_of(a.assessed_on.year)
        return policy.gradual_exit_months_disabled if a.disabled else policy.gradual_exit_months

    return case_timeline(opened_on, assessments, above_line=above, exit_months=months)


def amount_for(month: str, assessments: Sequence[Assessment], members: Sequence[Member],
               policy_of: PolicyOf) -> MonthlyAmount:
    """The case's amount for month `month` by the ordinary rule (no gradual exit considered)."""
    assessment = assessment_in_effect(assessments, month)
    day = first_day(month)
    return monthly_amount(members, day, assessment.annual_income, assessment.disabled, policy_of(day.year))


def due_amount(month: str, *, opened_on: dt.date, closed_on: dt.date | None, assessments: Sequence[Assessment],
               members: Sequence[Member], policy_of: PolicyOf) -> MonthlyAmount | None:
    """What month `month` pays, None when nothing is due (not open that month, closed by a gradual exit, zero)."""
    if not is_open_in(month, opened_on=opened_on, closed_on=closed_on):
        return None
    if len(assessments) == 1:  # no assessment after the opening one: no gradual exit, the month pays itself
        result = amount_for(month, assessments, members, policy_of)
        return result if result.amount > 0 else None
    paying = timeline_for(opened_on, assessments, members, policy_of).paying_month(month)
    if paying is None:
        return None
    result = amount_for(month_from_index(paying), assessments, members, policy_of)
    return result if result.amount > 0 else None
