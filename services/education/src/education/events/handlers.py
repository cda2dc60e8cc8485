"""Consumed events: the registry's household snapshots (read model + grant catch-up) and finance's payments."""

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from education.enrollments.models import Enrollment
from education.grants import service as grants
from education.households.models import Household, HouseholdMember
from education.households.rules import is_registered_poor
from education.households.service import PERSON_LOCK_NAMESPACE
from fupin_kit.events.consumer import BatchHandler, Handler
from fupin_kit.events.households import Applied, HouseholdReadModel

log = logging.getLogger("education.events")

EDUCATION_PROGRAM = "education_grants"


class PaymentCompleted(BaseModel):
    model_config = ConfigDict(extra="ignore")

    payment_id: str
    reference: str
    program: str | None = None
    status: str = "paid"


def _event_time(event: dict[str, Any]) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(event.get("time")))
    except ValueError:
        return dt.datetime.now(dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def after_households(session: AsyncSession, result: Applied) -> None:
    """A registered-poor household's members get the grants their enrolments earn (the grant catch-up).

    For the whole batch at once: every member of those households is locked (the enrolment's lock, in one
    statement, in person_ref order), so an enrolment committing meanwhile is either seen here or sees the household
    registered; then only the households with an enrolled member are caught up, one by one."""
    poor = [item.household_id for item in result.applied if is_registered_poor(item.status)]
    if not poor:
        return
    members = await session.exec(  # type: ignore[call-overload]
        select(HouseholdMember.household_id,
               func.pg_advisory_xact_lock(PERSON_LOCK_NAMESPACE, func.hashtext(HouseholdMember.person_ref)))
        .where(col(HouseholdMember.household_id).in_(poor)).order_by(col(HouseholdMember.person_ref)))
    members.all()
    enrolled = set((await session.exec(
        select(HouseholdMember.household_id)
        .join(Enrollment, col(Enrollment.person_ref) == col(HouseholdMember.person_ref))
        .where(col(HouseholdMember.household_id).in_(poor)).distinct())).all())
    for household_id in poor:
        if household_id in enrolled:
            household = await session.get(Household, household_id)
            assert household is not None
            await grants.catch_up(session, household=household)


# A malformed snapshot raises ValidationError in `prepare`: the kit dead-letters it (class only, nothing personal
# logged) and the partition moves on; an operator can see and replay it (`fupin-dlq`).
READ_MODEL = HouseholdReadModel(households=Household, members=HouseholdMember, after_apply=after_households)


def _paid_grant(event: dict[str, Any]) -> tuple[uuid.UUID, str, dt.datetime] | None:
    """Finance paid a grant (reference = grant_id); other programmes' payments, and notices that are not ours to
    read, are None (ignored)."""
    try:
        payment = PaymentCompleted.model_validate(event.get("data"))
        grant_id = uuid.UUID(payment.reference)
    except (ValidationError, ValueError):
        return None
    if payment.status != "paid" or payment.program not in (None, EDUCATION_PROGRAM):
        return None
    return grant_id, payment.payment_id, _event_time(event)


async def _record_payments(session: AsyncSession, paid: Sequence[tuple[uuid.UUID, str, dt.datetime] | None]) -> None:
    await grants.record_payments(session, [p for p in paid if p is not None])


# The grants become `paid`, a poll batch per transaction (one UPDATE): a backlog of finance's payments (every
# programme's) no longer takes a transaction per event
on_payment_completed = BatchHandler(_paid_grant, _record_payments)


HANDLERS: dict[str, Handler] = {
    **READ_MODEL.handlers(),
    "payment-completed": on_payment_completed,
}
