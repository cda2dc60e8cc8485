"""Awarding grants (unique indexes make each award happen at most once), catch-up, payment, look-ups."""

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from education.enrollments.models import Enrollment
from education.events import published
from education.grants.models import AWARDED, PAID, Grant
from education.grants.rules import GrantKind, grants_due
from education.households import service as households
from education.households.models import Household
from education.households.rules import is_registered_poor
from education.policies import service as policies
from education.school_stages import Stage


async def award_grants(session: AsyncSession, *, enrollment: Enrollment, household: Household) -> list[Grant]:
    """Award what the enrolment earns, if the household is registered poor; returns the enrolment's grants.

    The caller holds the person's lock (households.lock_person). A grant the unique indexes already hold (the same
    kind and year, or the one-time grant ever) is skipped, so a repeated or concurrent award changes nothing.
    """
    if is_registered_poor(household.status):
        policy = await policies.policy_for(session, academic_year=enrollment.academic_year)
        had_once = await _had_vocational_once(session, person_ref=enrollment.person_ref)
        for kind, amount in grants_due(Stage(enrollment.stage), enrollment.boarding, policy, had_once):
            await _insert_grant(session, enrollment=enrollment, household=household, kind=kind, amount=amount)
    return await grants_of_enrollment(session, enrollment_id=enrollment.enrollment_id)


async def catch_up(session: AsyncSession, *, household: Household) -> None:
    """A household became registered poor: award the grants its members' enrolments earn (late registration)."""
    for person_ref in await households.member_refs(session, household_id=household.household_id):
        await households.lock_person(session, person_ref=person_ref)
        enrollments = (await session.exec(
            select(Enrollment).where(Enrollment.person_ref == person_ref)
            .order_by(col(Enrollment.academic_year), col(Enrollment.created_at)))).all()
        for enrollment in enrollments:
            await award_grants(session, enrollment=enrollment, household=household)


async def _insert_grant(session: AsyncSession, *, enrollment: Enrollment, household: Household, kind: GrantKind,
                        amount: Decimal) -> None:
    grant_id = uuid.uuid4()
    inserted = await session.exec(insert(Grant).values(
        grant_id=grant_id, enrollment_id=enrollment.enrollment_id, person_ref=enrollment.person_ref,
        household_id=household.household_id, county_code=household.county_code,
        village_code=household.village_code, kind=kind.value, amount=amount,
        academic_year=enrollment.academic_year, status=AWARDED,
    ).on_conflict_do_nothing().returning(col(Grant.grant_id)))
    if inserted.first() is None:
        return
    await published.grant_awarded(session, grant_id=grant_id, enrollment=enrollment, household=household,
                                  kind=kind.value, amount=amount)


async def _had_vocational_once(session: AsyncSession, *, person_ref: str) -> bool:
    found = await session.exec(select(Grant.grant_id).where(
        Grant.person_ref == person_ref, Grant.kind == GrantKind.VOCATIONAL_ONCE.value))
    return found.first() is not None


async def grants_of_enrollment(session: AsyncSession, *, enrollment_id: uuid.UUID) -> list[Grant]:
    return list((await session.exec(
        select(Grant).where(Grant.enrollment_id == enrollment_id).order_by(col(Grant.awarded_at), col(Grant.kind))
    )).all())


async def grants_of_person(session: AsyncSession, *, person_ref: str) -> list[Grant]:
    return list((await session.exec(
        select(Grant).where(Grant.person_ref == person_ref)
        .order_by(col(Grant.academic_year), col(Grant.awarded_at), col(Grant.kind)))).all())


# Grants paid, a poll batch of `payment-completed` in one statement: `awarded` -> `paid` (a repeated notice, or a
# grant already paid, changes nothing)
_RECORD_PAYMENTS = text(
    f'UPDATE "{Grant.__tablename__}" AS g SET status = :paid, payment_id = u.payment_id, paid_at = u.paid_at '
    "FROM unnest(CAST(:grants AS uuid[]), CAST(:payments AS varchar[]), CAST(:times AS timestamptz[])) "
    "AS u(grant_id, payment_id, paid_at) WHERE g.grant_id = u.grant_id AND g.status = :awarded")


async def record_payments(session: AsyncSession, payments: Sequence[tuple[uuid.UUID, str, dt.datetime]]) -> None:
    """Finance paid these grants ((grant_id, payment_id, paid_at) in event order; a foreign id changes nothing):
    the first notice of a grant counts, as one by one."""
    first: dict[uuid.UUID, tuple[str, dt.datetime]] = {}
    for grant_id, payment_id, paid_at in payments:
        first.setdefault(grant_id, (payment_id, paid_at))
    if not first:
        return
    await session.exec(_RECORD_PAYMENTS, params={  # type: ignore[call-overload]
        "grants": list(first), "payments": [p for p, _ in first.values()], "times": [t for _, t in first.values()],
        "paid": PAID, "awarded": AWARDED})
