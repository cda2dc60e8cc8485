"""Return-to-poverty monitoring (防返贫动态监测, the national practice after 2020) and verification quality (seed §二:
"对差错率高的县、镇进行问责")."""

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

from registry.exits.rules import INDICATORS

LOW_INCOME = "income_below_monitoring_line"
SERIOUS_ILLNESS = "member_serious_illness"
DISABILITY = "member_disabled"
INDICATOR_FALSE = "indicator_turned_false"


def return_risk_reasons(*, annual_income: Decimal, member_count: int, poverty_line: Decimal, multiplier: Decimal,
                        member_health: Iterable[str], indicators: Mapping[str, bool]) -> list[str]:
    """Why an exited household is at risk of falling back; empty when it is not.

    Latest per-capita income below `multiplier` (1.5 by default) times the poverty line of its income year (compared
    exactly: income < line x multiplier x members), a member seriously ill or disabled, or an indicator that a review
    after exit found false (exit required all five true)."""
    reasons = []
    if annual_income < poverty_line * multiplier * member_count:
        reasons.append(LOW_INCOME)
    health = set(member_health)
    if "serious" in health:
        reasons.append(SERIOUS_ILLNESS)
    if "disabled" in health:
        reasons.append(DISABILITY)
    if any(not indicators.get(name, False) for name in INDICATORS):
        reasons.append(INDICATOR_FALSE)
    return reasons


def error_rate(*, town_approved: int, refused_at_county: int, removed: int) -> Decimal | None:
    """Share of the town's sign-offs that proved wrong: refused by the county or later removed as wrongly
    identified, over households the town approved; None when the town approved none. 4 places, half-up."""
    if town_approved <= 0:
        return None
    return (Decimal(refused_at_county + removed) / Decimal(town_approved)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP)
