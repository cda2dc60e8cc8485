"""Village work teams (驻村工作队), seed §六(二十): attendance pro-rated over the days on the team, and the withdrawal
rule 不稳定脱贫不撤队伍. Pure functions, tested at their boundaries."""

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field

ROLES = ("first_secretary", "captain", "member")
SINGLE_ROLES = frozenset({"first_secretary", "captain"})  # one active holder per team
BACKGROUNDS = ("cadre", "agri_technician", "college_graduate_official", "other")
TECHNICIANS = frozenset({"agri_technician", "college_graduate_official"})  # 农技人员或大学生村官


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def days_on_team(year: int, joined_on: dt.date, left_on: dt.date | None) -> int:
    """Days of `year` the member was on the team: from the day joined (counted) to the day left (not counted)."""
    start = max(joined_on, dt.date(year, 1, 1))
    end = dt.date(year + 1, 1, 1) if left_on is None else min(left_on, dt.date(year + 1, 1, 1))
    return max(0, (end - start).days)


def required_days(min_days: int, days_on: int, year: int) -> int:
    """ceil(min_days × days on the team that year / days in the year), in exact integers (contract §7).

    A member from 1 April 2019 with 200 days: 275 days on the team, 200 × 275 / 365 = 150.7 → 151."""
    return math.ceil(min_days * days_on / days_in_year(year)) if days_on > 0 else 0


def meets_minimum(days_present: int, required: int) -> bool:
    return days_present >= required


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class WithdrawalCheck:
    reasons: list[str] = field(default_factory=list)
    poor_households: int = 0
    stay_until: dt.date | None = None

    @property
    def allowed(self) -> bool:
        return not self.reasons


def withdrawal_check(*, poor_households: int, village_exited_on: dt.date | None, stay_years: int,
                     withdrawn_on: dt.date) -> WithdrawalCheck:
    """A team may leave only when no household of the village is still poor and the village exited at least
    `stay_years` before `withdrawn_on` (withdrawing on the anniversary itself is allowed)."""
    reasons: list[str] = []
    stay_until = None
    if poor_households > 0:
        reasons.append("poor_households_remain")
    if village_exited_on is None:
        reasons.append("village_not_exited")
    else:
        stay_until = add_years(village_exited_on, stay_years)
        if withdrawn_on < stay_until:
            reasons.append("exit_not_stable")
    return WithdrawalCheck(reasons, poor_households, stay_until)


def team_lacks(*, roles: list[str], backgrounds: list[str], min_members: int) -> list[str]:
    """What an active team is short of (its active members' roles and backgrounds): `first_secretary`,
    `technician` (no agri_technician or college_graduate_official), `members` (below the minimum)."""
    lacks = []
    if "first_secretary" not in roles:
        lacks.append("first_secretary")
    if not TECHNICIANS.intersection(backgrounds):
        lacks.append("technician")
    if len(roles) < min_members:
        lacks.append("members")
    return lacks
