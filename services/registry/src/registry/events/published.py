"""The events the registry publishes (contract v2 §6), built with fupin_events' models and staged in the outbox (in
the transaction of the change they announce).

- The household snapshot every household event carries (`HouseholdSnapshot`), so consumers upsert a read model from
  any one of them: `household-registered`, `exit-certified`, `returned-to-poverty`, `household-removed`.
- `household-status-changed`: the status changes no snapshot topic announces (`identified`, `town_verified`,
  `rejected`), so the war map counts every status (contract §9). Ids, the division and the status only: no member, no
  person. These statuses precede every snapshot status in a household's life (identified, town_verified, then
  rejected or registered), so a consumer orders the two kinds of event by that order; the snapshots'
  `event_sequence` counter is left to them.
- `division-updated` (every PUT of a division; the topic is compacted by code) and `division-exited`.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import (
    DivisionExited,
    DivisionUpdated,
    HouseholdMember,
    HouseholdSnapshot,
    HouseholdStatusChanged,
)
from fupin_kit.events.outbox import enqueue
from registry.config import COMPONENT
from registry.divisions.models import Division
from registry.households.models import Household, Member, Status

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


HOUSEHOLD_STATUS_CHANGED = "household-status-changed"
# The statuses a household snapshot topic announces (household-registered, exit-certified, returned-to-poverty,
# household-removed); every other status is announced here.
ANNOUNCED_BY_SNAPSHOT = frozenset({Status.registered, Status.exited, Status.returned, Status.removed})


def announced_here(status: Status | str) -> bool:
    return Status(status) not in ANNOUNCED_BY_SNAPSHOT


def status_changed(*, household_id: uuid.UUID, status: Status | str, previous: Status | str | None,
                   village_code: str, occurred_at: dt.datetime | None = None) -> dict[str, Any]:
    """The event's payload (also for bulk writers that stage events by COPY)."""
    return HouseholdStatusChanged(
        household_id=household_id, status=str(status),  # type: ignore[arg-type]
        previous_status=str(previous) if previous is not None else None,  # type: ignore[arg-type]
        village_code=village_code, town_code=village_code[:9], county_code=village_code[:6],
        occurred_at=occurred_at or dt.datetime.now(dt.UTC),
    ).model_dump(mode="json")


async def publish_status(session: AsyncSession, household: Household, *, previous: Status | str | None) -> None:
    """Stage the household's current status in the outbox (in the change's transaction) when no snapshot topic
    announces it."""
    if not announced_here(household.status):
        return
    await enqueue(session, source=COMPONENT, topic=HOUSEHOLD_STATUS_CHANGED, subject=str(household.id),
                  data=status_changed(household_id=household.id, status=household.status, previous=previous,
                                      village_code=household.village_code))


async def division_updated(session: AsyncSession, division: Division) -> None:
    """Every PUT publishes (created or not, changed or not): the topic is compacted by code, so a consumer started
    later rebuilds the whole tree from it (contract v2 §6)."""
    await enqueue(session, source=COMPONENT, topic=DIVISION_UPDATED, subject=division.code, data=DivisionUpdated(
        division_code=division.code, level=str(division.level),  # type: ignore[arg-type]
        parent_code=division.parent_code, name=division.name, poor=division.poor,
        population=division.population).model_dump(mode="json"))


async def division_exited(session: AsyncSession, division: Division, *, poverty_incidence: Decimal | str,
                          threshold: Decimal | str, poor_persons: int) -> None:
    """The incidence and the threshold as the decision shows them (4 places)."""
    await enqueue(session, source=COMPONENT, topic=DIVISION_EXITED, subject=division.code, data=DivisionExited(
        division_code=division.code, level=str(division.level),  # type: ignore[arg-type]
        poverty_incidence=poverty_incidence, threshold=threshold, poor_persons=poor_persons,
        population=division.population).model_dump(mode="json"))
