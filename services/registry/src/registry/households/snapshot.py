"""The household snapshot every household event carries (contract v2 §6, `fupin_events.payloads.HouseholdSnapshot`),
so consumers upsert a read model from any one of them."""

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import HouseholdMember, HouseholdSnapshot
from fupin_kit.events.outbox import enqueue
from registry.config import COMPONENT
from registry.households.models import Household, Member

HOUSEHOLD_REGISTERED = "household-registered"
EXIT_CERTIFIED = "exit-certified"
RETURNED_TO_POVERTY = "returned-to-poverty"
HOUSEHOLD_REMOVED = "household-removed"
DIVISION_EXITED = "division-exited"
DIVISION_UPDATED = "division-updated"


class SnapshotHousehold(Protocol):
    id: Any
    status: Any
    village_code: str
    causes: list[str]


class SnapshotMember(Protocol):
    id: uuid.UUID
    person_ref: str
    birth_date: dt.date
    relation: str
    labor: str
    school_stage: str | None
    boarding: bool


def household_snapshot(household: SnapshotHousehold, members: Sequence[SnapshotMember], *,
                       sequence: int) -> dict[str, Any]:
    """No names, no plain and no masked ID numbers (the masked number plus the birth date would rebuild the plain
    one, contract v2 §0): the member id, the person_ref pseudonym and the birth date travel.

    `members` in household order (head first as entered); a bulk import passes its drafts directly. `sequence` is
    the household's change counter (consumers keep the highest)."""
    return HouseholdSnapshot(
        household_id=household.id, status=str(household.status), village_code=household.village_code,
        town_code=household.village_code[:9], county_code=household.village_code[:6],
        causes=list(household.causes),
        members=[HouseholdMember(member_id=m.id, person_ref=m.person_ref, birth_date=m.birth_date,
                                 relation=m.relation, labor=m.labor, school_stage=m.school_stage,  # type: ignore[arg-type]
                                 boarding=m.boarding) for m in members],
        occurred_at=dt.datetime.now(dt.UTC), sequence=sequence,
    ).model_dump(mode="json")


async def publish_household(session: AsyncSession, *, topic: str, household: Household,
                            members: Sequence[Member]) -> None:
    """Stage the snapshot in the outbox; the caller holds the household's row lock, so the counter is exact."""
    household.event_sequence += 1
    session.add(household)
    await enqueue(session, source=COMPONENT, topic=topic, subject=str(household.id),
                  data=household_snapshot(household, members, sequence=household.event_sequence))
