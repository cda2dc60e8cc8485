"""Recording enrolments and awarding their grants."""

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from education.enrollments.models import Enrollment, EnrollmentCreate, EnrollmentPublic
from education.grants import service as grants
from education.grants.models import Grant, GrantPublic
from education.households import service as households
from education.households.rules import is_registered_poor
from education.persons import checked_id_number
from fupin_kit.errors import Conflict, NotFound
from fupin_kit.ids import mask_id_number, pseudonym


async def enroll(session: AsyncSession, *, data: EnrollmentCreate, pseudonym_key: str,
                 recorded_by: str) -> EnrollmentPublic:
    """Record the enrolment (409 duplicate_enrollment for the same person, stage and year) and award its grants."""
    id_number = checked_id_number(data.id_number)
    person_ref = pseudonym(id_number, pseudonym_key)
    await households.lock_person(session, person_ref=person_ref)
    enrollment = Enrollment(
        enrollment_id=uuid.uuid4(), person_ref=person_ref, masked_id_number=mask_id_number(id_number),
        school_code=data.school_code, stage=data.stage.value, grade=str(data.grade), boarding=data.boarding,
        academic_year=data.academic_year, recorded_by=recorded_by)
    row = enrollment.model_dump(exclude={"created_at"})
    inserted = await session.exec(insert(Enrollment).values(**row).on_conflict_do_nothing()
                                     .returning(col(Enrollment.created_at)))
    created_at = inserted.scalar_one_or_none()
    if created_at is None:
        raise Conflict("duplicate_enrollment",
                       f"this person is already enrolled in {data.stage.value} for {data.academic_year}")
    enrollment.created_at = created_at
    household = await households.household_of(session, person_ref=person_ref)
    awarded = [] if household is None else await grants.award_grants(
        session, enrollment=enrollment, household=household)
    return public(enrollment, registered_poor=household is not None and is_registered_poor(household.status),
                  grants=awarded)


async def read_enrollment(session: AsyncSession, *, enrollment_id: str) -> EnrollmentPublic:
    try:
        key = uuid.UUID(enrollment_id)
    except ValueError:
        key = None
    enrollment = None if key is None else await session.get(Enrollment, key)
    if enrollment is None:
        raise NotFound("enrollment_not_found", "no enrolment has this id")
    household = await households.household_of(session, person_ref=enrollment.person_ref)
    return public(enrollment, registered_poor=household is not None and is_registered_poor(household.status),
                  grants=await grants.grants_of_enrollment(session, enrollment_id=enrollment.enrollment_id))


def public(enrollment: Enrollment, *, registered_poor: bool, grants: list[Grant]) -> EnrollmentPublic:
    return EnrollmentPublic(
        **enrollment.model_dump(include=set(EnrollmentPublic.model_fields) - {"grants", "registered_poor"}),
        registered_poor=registered_poor,
        grants=[GrantPublic.model_validate(grant, from_attributes=True) for grant in grants])
