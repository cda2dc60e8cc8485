"""The household snapshot every household event carries (docs/conventions.md), so consumers upsert a read model."""

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

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


class SnapshotMember(Protocol):
    person_ref: str
    masked_id_number: str
    birth_date: dt.date
    relation: str
    labor: str
    school_stage: str | None
    boarding: bool


def household_snapshot(household: SnapshotHousehold, members: Sequence[SnapshotMember]) -> dict[str, Any]:
    """No names and no plain ID numbers: the person_ref pseudonym and the masked number travel instead.

    `members` in household order (head first as entered); a bulk import passes its drafts directly."""
    return {
        "household_id": str(household.id),
        "status": str(household.status),
        "village_code": household.village_code,
        "town_code": household.village_code[:9],
        "county_code": household.village_code[:6],
        "members": [{
            "person_ref": m.person_ref,
            "masked_id_number": m.masked_id_number,
            "birth_date": m.birth_date.isoformat(),
            "relation": m.relation,
            "labor": m.labor,
            "school_stage": m.school_stage,
            "boarding": m.boarding,
        } for m in members],
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
    }


async def publish_household(session: AsyncSession, *, topic: str, household: Household,
                            members: Sequence[Member]) -> None:
    await enqueue(session, source=COMPONENT, topic=topic, subject=str(household.id),
                  data=household_snapshot(household, members))
