"""Coverage per county and stage: enrolled children of registered-poor households, grants awarded and paid."""

from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import case, func
from sqlalchemy import select as select_columns
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from education.enrollments.models import Enrollment
from education.grants.models import PAID, Grant
from education.households.models import Household, HouseholdMember
from education.households.rules import REGISTERED_POOR_STATUSES
from fupin_kit.money import Money

ZERO = Decimal("0.00")


class CoverageLine(BaseModel):
    county_code: str
    stage: str
    enrolled: int = 0
    grants_awarded: int = 0
    amount_awarded: Money = ZERO
    grants_paid: int = 0
    amount_paid: Money = ZERO


class CoverageReport(BaseModel):
    academic_year: str
    items: list[CoverageLine]
    totals: CoverageLine


async def coverage(session: AsyncSession, *, academic_year: str) -> CoverageReport:
    """Enrolled = distinct persons enrolled that year in households now registered poor; grants by the county the
    household was in when the grant was awarded (the grants include those paid)."""
    lines: dict[tuple[str, str], CoverageLine] = {}

    def line(county: str, stage: str) -> CoverageLine:
        return lines.setdefault((county, stage), CoverageLine(county_code=county, stage=stage))

    enrolled = (select(Household.county_code, Enrollment.stage, func.count(func.distinct(Enrollment.person_ref)))
                .join(HouseholdMember, col(HouseholdMember.person_ref) == col(Enrollment.person_ref))
                .join(Household, col(Household.household_id) == col(HouseholdMember.household_id))
                .where(Enrollment.academic_year == academic_year,
                       col(Household.status).in_(REGISTERED_POOR_STATUSES))
                .group_by(col(Household.county_code), col(Enrollment.stage)))
    for county, stage, count in (await session.exec(enrolled)).all():
        line(county, stage).enrolled = count
    paid = col(Grant.status) == PAID
    granted = (select_columns(col(Grant.county_code), col(Enrollment.stage), func.count(), func.sum(Grant.amount),
                              func.sum(case((paid, 1), else_=0)), func.sum(case((paid, Grant.amount), else_=0)))
               .join(Enrollment, col(Enrollment.enrollment_id) == col(Grant.enrollment_id))
               .where(col(Grant.academic_year) == academic_year)
               .group_by(col(Grant.county_code), col(Enrollment.stage)))
    rows = (await session.exec(granted)).all()  # type: ignore[call-overload]  # sqlmodel types up to 4 columns
    for county, stage, awarded, amount_awarded, paid_count, amount_paid in rows:
        entry = line(county, stage)
        entry.grants_awarded, entry.amount_awarded = awarded, amount_awarded
        entry.grants_paid, entry.amount_paid = paid_count, amount_paid
    items = [lines[key] for key in sorted(lines)]
    return CoverageReport(academic_year=academic_year, items=items, totals=_totals(items))


def _totals(items: list[CoverageLine]) -> CoverageLine:
    total = CoverageLine(county_code="*", stage="*")
    for item in items:
        total.enrolled += item.enrolled
        total.grants_awarded += item.grants_awarded
        total.amount_awarded += item.amount_awarded
        total.grants_paid += item.grants_paid
        total.amount_paid += item.amount_paid
    return total
