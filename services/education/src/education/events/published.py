"""The events education publishes (docs/conventions.md), built with fupin_events' models; subject = the household
id. Ids, codes, dates and amounts only."""

import uuid
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from education.config import COMPONENT
from education.enrollments.models import Enrollment
from education.households.models import Household
from fupin_events.payloads import GrantAwarded
from fupin_kit.events.outbox import enqueue

GRANT_AWARDED = "grant-awarded"


async def grant_awarded(session: AsyncSession, *, grant_id: uuid.UUID, enrollment: Enrollment, household: Household,
                        kind: str, amount: Decimal) -> None:
    payload = GrantAwarded.model_validate(dict(
        grant_id=str(grant_id), person_ref=enrollment.person_ref, household_id=household.household_id,
        county_code=household.county_code, village_code=household.village_code, kind=kind, amount=amount,
        academic_year=enrollment.academic_year, enrollment_id=str(enrollment.enrollment_id),
        stage=enrollment.stage))
    await enqueue(session, source=COMPONENT, topic=GRANT_AWARDED, subject=str(household.household_id),
                  data=payload.model_dump(mode="json"))
