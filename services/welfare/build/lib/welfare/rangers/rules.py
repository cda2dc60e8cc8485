"""Ecological rangers (生态护林员, seed §三(八)): eligibility reasons and the monthly instalments."""

from decimal import Decimal

from fupin_kit.money import round_fen
from welfare.policies.rules import WelfarePolicy

REGISTERED_POOR = ("registered", "exited", "returned")


def instalment(allowance: Decimal, month_number: int) -> Decimal:
    """Month m (1–12) of a yearly allowance A: round(A × m / 12) − round(A × (m − 1) / 12); twelve sum to A."""
    if not 1 <= month_number <= 12:
        raise ValueError("month_number must be 1..12")
    return round_fen(allowance * month_number / 12) - round_fen(allowance * (month_number - 1) / 12)


def ranger_reasons(*, household_status: str | None, labor: str | None, age: int | None, household_posts: int,
                   policy: WelfarePolicy) -> list[str]:
    """Why a person may not be appointed (empty: eligible). Unknown person: only `not_registered_poor`."""
    if household_status is None or labor is None or age is None:
        return ["not_registered_poor"]
    reasons = []
    if household_status not in REGISTERED_POOR:
        reasons.append("not_registered_poor")
    if labor not in ("full", "partial"):
        reasons.append("no_labor_capacity")
    if not policy.ranger_min_age <= age <= policy.ranger_max_age:
        reasons.append("age_out_of_range")
    if household_posts >= policy.rangers_per_household:
        reasons.append("household_has_ranger")
    return reasons
