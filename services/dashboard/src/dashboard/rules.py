"""The war map's numbers as pure functions: what one fact adds to its divisions, incidence and the tile colour."""

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from fupin_kit import clock

Tallies = dict[str, Decimal]
Color = Literal["red", "amber", "green"]

STATUSES = ("identified", "town_verified", "registered", "exited", "returned", "removed", "rejected")
# Members of these households are poor persons for the incidence (the registry's rule, contract §1).
POOR_FOR_INCIDENCE = frozenset({"registered", "returned"})
# Registered-poor households for 获贷率 (microcredit's report: registered, exited or returned now).
REGISTERED_POOR = frozenset({"registered", "exited", "returned"})
RED_FROM = Decimal("0.03")
AMBER_FROM = Decimal("0.01")
PROGRAMS = ("education_grants", "medical_assistance", "loan_interest_subsidy", "risk_compensation")
# Contract v2 §5: a `benefit-due` kind and the welfare programme account finance pays it from.
BENEFIT_PROGRAMS = {"minimum_living": "minimum_living", "temporary_assistance": "temporary_assistance",
                    "eco_ranger": "eco_rangers", "relocation": "relocation"}
WELFARE_PROGRAMS = frozenset(BENEFIT_PROGRAMS.values())
ONE = Decimal(1)


def places(village_code: str) -> tuple[str, str, str]:
    """The village, its town and its county (codes nest: 12, 9 and 6 digits)."""
    return village_code, village_code[:9], village_code[:6]


def household_contribution(*, status: str | None, persons: int, exit_year: int | None,
                           has_loan: bool) -> Tallies:
    """What one household adds to each division above it."""
    out: Tallies = {}
    if status is None:
        return out
    out[f"households.{status}"] = ONE
    if status in POOR_FOR_INCIDENCE:
        out["poor_persons"] = Decimal(persons)
    if status == "exited" and exit_year is not None:
        out[f"exits.households.{exit_year}"] = ONE
    if status in REGISTERED_POOR:
        out["poor_households"] = ONE
        if has_loan:
            out["loans.households"] = ONE
    return out


def exit_year(moment: dt.datetime) -> int:
    """The year an exit counts in: the moment's year in China Standard Time (the services' clock; 31 Dec 16:00 UTC
    is already 1 Jan there). A naive moment is taken as UTC."""
    return clock.china_date(moment).year


def benefit_pending(*, due: bool, cancelled: bool, settled: bool) -> bool:
    """Whether a welfare benefit is waiting in finance (`pending_funds`, contract v2 §5): finance recorded it
    (`benefit-due`) and has neither paid nor reversed it (`payment-completed`, `settled`). A `benefit-cancelled`
    ends the wait either way: finance reverses a waiting payment, and one it paid first stays paid."""
    return due and not cancelled and not settled


def benefit_contribution(*, program: str | None, amount: Decimal | None, due: bool, cancelled: bool,
                         settled: bool) -> Tallies:
    """What one benefit adds to its village, town and county: its amount to `pending.<program>` while it waits."""
    if program is None or amount is None or not benefit_pending(due=due, cancelled=cancelled, settled=settled):
        return {}
    return {f"pending.{program}": amount} if amount else {}


def difference(new: Mapping[str, Decimal], old: Mapping[str, Decimal]) -> Tallies:
    """new − old, without zero entries."""
    out = {k: new.get(k, Decimal(0)) - old.get(k, Decimal(0)) for k in set(new) | set(old)}
    return {k: v for k, v in out.items() if v != 0}


def negate(values: Mapping[str, Decimal]) -> Tallies:
    return {k: -v for k, v in values.items()}


def incidence(poor_persons: int, population: int) -> Decimal | None:
    """Poor persons / rural population, 4 places half-up (the registry's rounding); None without a population."""
    if population <= 0:
        return None
    return (Decimal(poor_persons) / Decimal(population)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def color(poor_persons: int, population: int) -> Color:
    """red at an incidence of 3% or more, amber from 1%, green below (compared exactly, not on the rounded figure).
    A division without a population has no incidence: green unless it has poor persons (then red: unknown)."""
    if population <= 0:
        return "red" if poor_persons > 0 else "green"
    if Decimal(poor_persons) >= RED_FROM * population:
        return "red"
    if Decimal(poor_persons) >= AMBER_FROM * population:
        return "amber"
    return "green"


def rate(part: int, whole: int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP) if whole else \
        Decimal("0.0000")


def pending(owed: Decimal, paid: Decimal) -> Decimal:
    """What the events say is owed and not yet paid (never below zero)."""
    return max(owed - paid, Decimal("0.00"))
