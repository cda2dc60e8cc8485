"""Town then county sign-off (seed §二: 镇和县区党政一把手签字确认) and public-notice objections."""

import datetime as dt
import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import Conflict, NotFound
from registry.events.published import HOUSEHOLD_REGISTERED, publish_household
from registry.households import service as households
from registry.households.models import Household, Status
from registry.verification.models import (
    Objection,
    ObjectionIn,
    ObjectionState,
    ResolutionIn,
    Verification,
    VerificationIn,
    VerificationLevel,
)

# The status each level signs off, and where its approval leads.
EXPECTED = {VerificationLevel.town: Status.identified, VerificationLevel.county: Status.town_verified}
APPROVED_TO = {VerificationLevel.town: Status.town_verified, VerificationLevel.county: Status.registered}
UNDER_NOTICE = (Status.identified, Status.town_verified)


async def verify(session: AsyncSession, *, household_id: uuid.UUID, body: VerificationIn,
                 actor: str) -> tuple[Verification, Household]:
    """Record a sign-off; county approval registers the household and publishes `household-registered`."""
    household = await households.get_household(session, household_id, for_update=True)
    if household.status != EXPECTED[body.level]:
        raise Conflict("verification_out_of_order",
                       f"a {body.level} verification needs status {EXPECTED[body.level]}, "
                       f"the household is {household.status}")
    if body.level == VerificationLevel.county and body.approved and await _open_objection(session, household_id):
        raise Conflict("open_objection", "an objection from the public notice is still open")
    verification = Verification(household_id=household_id, level=body.level, approved=body.approved,
                                officer=body.officer, note=body.note, actor=actor)
    session.add(verification)
    to = APPROVED_TO[body.level] if body.approved else Status.rejected
    action = f"{body.level}_{'approved' if body.approved else 'refused'}"
    await households.move(session, household, to=to, action=action, actor=actor, officer=body.officer,
                          reason=body.note)
    if to == Status.registered:
        await publish_household(session, topic=HOUSEHOLD_REGISTERED, household=household,
                                members=await households.members_of(session, household_id))
    await session.flush()
    return verification, household


async def _open_objection(session: AsyncSession, household_id: uuid.UUID) -> bool:
    found = await session.exec(select(Objection.id).where(
        Objection.household_id == household_id, Objection.state == ObjectionState.open).limit(1))
    return found.first() is not None


async def file_objection(session: AsyncSession, *, household_id: uuid.UUID, body: ObjectionIn,
                         actor: str) -> tuple[Objection, Household]:
    household = await households.get_household(session, household_id, for_update=True)
    if household.status not in UNDER_NOTICE:
        raise Conflict("invalid_status", f"objections are filed while identified or town_verified, "
                       f"the household is {household.status}")
    objection = Objection(household_id=household_id, reason=body.reason, state=ObjectionState.open, filed_by=actor)
    session.add(objection)
    await session.flush()
    await session.refresh(objection)  # the database's defaults
    return objection, household


async def resolve_objection(session: AsyncSession, *, household_id: uuid.UUID, objection_id: uuid.UUID,
                            body: ResolutionIn, actor: str) -> tuple[Objection, Household]:
    """Upheld → the household is rejected; dismissed → county approval may proceed."""
    household = await households.get_household(session, household_id, for_update=True)
    objection = await session.get(Objection, objection_id, with_for_update=True)
    if objection is None or objection.household_id != household_id:
        raise NotFound("objection_not_found", f"household {household_id} has no objection {objection_id}")
    if objection.state != ObjectionState.open:
        raise Conflict("invalid_status", f"the objection is already {objection.state}")
    objection.state = ObjectionState.upheld if body.upheld else ObjectionState.dismissed
    objection.resolution_note, objection.resolved_by = body.note, actor
    objection.resolved_at = dt.datetime.now(dt.UTC)
    if body.upheld and household.status in UNDER_NOTICE:
        await households.move(session, household, to=Status.rejected, action="objection_upheld", actor=actor,
                              reason=body.note or objection.reason)
    await session.flush()
    await session.refresh(objection)
    return objection, household
