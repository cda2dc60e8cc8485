"""Which grants an enrolment earns (seed §三(六) 教育脱贫行动; contract §3 defaults)."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from education.school_stages import Stage


class GrantKind(StrEnum):
    PRESCHOOL = "preschool"
    BOARDING_PRIMARY = "boarding_primary"
    BOARDING_JUNIOR = "boarding_junior"
    SENIOR = "senior"
    SECONDARY_VOCATIONAL = "secondary_vocational"
    VOCATIONAL_ONCE = "vocational_once"


@dataclass(frozen=True)
class GrantPolicy:
    """Amounts in yuan for one academic year, one per grant kind."""

    preschool: Decimal
    boarding_primary: Decimal
    boarding_junior: Decimal
    senior: Decimal
    secondary_vocational: Decimal
    vocational_once: Decimal

    def amount(self, kind: GrantKind) -> Decimal:
        return Decimal(getattr(self, kind.value))


# Seed §三(六): 750 a year for the preschool year; boarding subsidies in primary and junior (xx: 1000 and 1250 by the
# contract); 2000 a year in senior high or secondary vocational school; a one-time 3000 in secondary or higher
# vocational education.
DEFAULT_POLICY = GrantPolicy(
    preschool=Decimal("750.00"), boarding_primary=Decimal("1000.00"), boarding_junior=Decimal("1250.00"),
    senior=Decimal("2000.00"), secondary_vocational=Decimal("2000.00"), vocational_once=Decimal("3000.00"))

_YEARLY_KIND: dict[Stage, GrantKind] = {
    Stage.PRESCHOOL: GrantKind.PRESCHOOL,
    Stage.SENIOR: GrantKind.SENIOR,
    Stage.SECONDARY_VOCATIONAL: GrantKind.SECONDARY_VOCATIONAL,
}
_BOARDING_KIND: dict[Stage, GrantKind] = {
    Stage.PRIMARY: GrantKind.BOARDING_PRIMARY,
    Stage.JUNIOR: GrantKind.BOARDING_JUNIOR,
}
VOCATIONAL_STAGES: frozenset[Stage] = frozenset({Stage.SECONDARY_VOCATIONAL, Stage.HIGHER_VOCATIONAL})


def grants_due(stage: Stage, boarding: bool, policy: GrantPolicy,
               had_vocational_once: bool) -> list[tuple[GrantKind, Decimal]]:
    """The grants one academic year's enrolment of a registered-poor student earns (seed §三(六)).

    Preschool, senior and secondary vocational students get their yearly amount; primary and junior students only
    when boarding; a secondary or higher vocational student also gets the one-time grant unless they ever had it;
    university students get no city grant (loans, scholarships and grants cover them). A kind whose amount the
    year's policy sets to zero is not granted.
    """
    due: list[GrantKind] = []
    if stage in _YEARLY_KIND:
        due.append(_YEARLY_KIND[stage])
    if boarding and stage in _BOARDING_KIND:
        due.append(_BOARDING_KIND[stage])
    if stage in VOCATIONAL_STAGES and not had_vocational_once:
        due.append(GrantKind.VOCATIONAL_ONCE)
    return [(kind, policy.amount(kind)) for kind in due if policy.amount(kind) > 0]
