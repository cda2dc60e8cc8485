"""Children of registered-poor households with no enrolment in the current academic year (控辍保学)."""

import datetime as dt

from pydantic import BaseModel
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from education.academic_years import academic_year_on
from education.dropouts.rules import OLDEST, YOUNGEST, school_age, village_prefix
from education.enrollments.models import Enrollment
from education.households.models import Household, HouseholdMember
from education.households.rules import REGISTERED_POOR_STATUSES


class DropoutRisk(BaseModel):
    """Contract v2 §3: the registry's member id, never the masked number (education knows the birth date)."""

    household_id: str
    member_id: str | None
    village_code: str
    age: int


class DropoutRisks(BaseModel):
    division_code: str
    academic_year: str
    as_of: dt.date
    items: list[DropoutRisk]


async def dropout_risks(session: AsyncSession, *, division_code: str, today: dt.date) -> DropoutRisks:
    """One item per child aged 6 to 15 today, in a registered-poor household of the division, not enrolled this year."""
    academic_year = academic_year_on(today)
    enrolled = select(Enrollment.enrollment_id).where(
        Enrollment.person_ref == HouseholdMember.person_ref, Enrollment.academic_year == academic_year)
    statement = (
        select(HouseholdMember, Household)
        .join(Household, col(Household.household_id) == col(HouseholdMember.household_id))
        .where(col(Household.status).in_(REGISTERED_POOR_STATUSES),
               col(Household.village_code).startswith(village_prefix(division_code)),
               col(HouseholdMember.birth_date) > dt.date(today.year - OLDEST - 2, 1, 1),
               col(HouseholdMember.birth_date) <= dt.date(today.year - YOUNGEST, 12, 31),
               ~enrolled.exists())
        .order_by(col(Household.village_code), col(Household.household_id), col(HouseholdMember.birth_date)))
    items = []
    for member, household in (await session.exec(statement)).all():
        age = school_age(member.birth_date, today)
        if age is not None:
            items.append(DropoutRisk(household_id=str(household.household_id), village_code=household.village_code,
                                     member_id=None if member.member_id is None else str(member.member_id),
                                     age=age))
    return DropoutRisks(division_code=division_code, academic_year=academic_year, as_of=today, items=items)
