"""The annual assessment (考核), seed §八(二十五), contract §7: ratios, weighted score, vetoes (一票否决), verdict.

Pure: the service gathers the actuals from its read models and stores them with the result. Ratios are exact
fractions (shown to 4 places, used exactly); the score is rounded half-up to 2 places at the end only.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from assistance.helpers.rules import coverage, four_places, round_half_up
from assistance.policies.rules import Policy


@dataclass(frozen=True)
class Targets:
    """The county's responsibility letter (责任书) for the year."""

    households_to_exit: int
    villages_to_exit: int
    funds_to_spend: Decimal


@dataclass(frozen=True)
class Actuals:
    """What the read models show for the county and year up to the reference date D."""

    households_exited: int
    villages_exited: int
    funds_spent: Decimal
    still_poor_households: int
    paired_households: int
    households_registered: int
    households_removed: int
    misuse_findings: int


@dataclass(frozen=True)
class Outcome:
    ratios: dict[str, Fraction]
    error_rate: Decimal
    score: Decimal
    vetoes: list[str]
    reasons: list[str]
    verdict: str

    def shown_ratios(self) -> dict[str, str]:
        return {name: f"{four_places(value):.4f}" for name, value in self.ratios.items()}


def ratio(actual: Fraction, target: Fraction) -> Fraction:
    """min(1, actual / target); 1 for a zero target."""
    return Fraction(1) if target <= 0 else min(Fraction(1), actual / target)


def error_rate(removed: int, registered: int) -> Decimal:
    """Households removed in the year after registration / households registered up to D, 4 places; 0 when none."""
    return Decimal("0.0000") if registered == 0 else four_places(Fraction(removed, registered))


def score(ratios: dict[str, Fraction], policy: Policy) -> Decimal:
    """100 × Σ weight × ratio, rounded half-up to 2 places."""
    w = policy.weights
    total = sum((Fraction(getattr(w, name)) * value for name, value in ratios.items()), Fraction(0))
    return round_half_up(100 * total, 2)


def assess(targets: Targets, actuals: Actuals, policy: Policy) -> Outcome:
    ratios = {
        "households": ratio(Fraction(actuals.households_exited), Fraction(targets.households_to_exit)),
        "villages": ratio(Fraction(actuals.villages_exited), Fraction(targets.villages_to_exit)),
        "funds": ratio(Fraction(actuals.funds_spent), Fraction(targets.funds_to_spend)),
        "helper_coverage": coverage(actuals.paired_households, actuals.still_poor_households),
    }
    rate = error_rate(actuals.households_removed, actuals.households_registered)
    points = score(ratios, policy)
    vetoes = []
    if rate > policy.veto_error_rate:
        vetoes.append("verification_error_rate")
    if actuals.misuse_findings > 0:
        vetoes.append("funds_misuse")
    reasons = []
    if actuals.households_exited < targets.households_to_exit:
        reasons.append("household_target_missed")
    if actuals.villages_exited < targets.villages_to_exit:
        reasons.append("village_target_missed")
    if points < policy.pass_from:
        reasons.append("score_below_pass")
    if vetoes or reasons:
        verdict = "fail"
    elif points >= policy.excellent_from:
        verdict = "excellent"
    else:
        verdict = "pass"
    return Outcome(ratios, rate, points, vetoes, reasons, verdict)


def reference_date(year: int, today: dt.date) -> tuple[dt.date, bool]:
    """D and whether the assessment is final: 31 December once the year is over, else today."""
    year_end = dt.date(year, 12, 31)
    return (year_end, True) if today > year_end else (today, False)
