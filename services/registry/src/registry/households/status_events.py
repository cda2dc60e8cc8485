"""`household-status-changed`: the status changes no snapshot topic announces (`identified`, `town_verified`,
`rejected`), so the war map counts every status (contract §9). Ids, the division and the status only: no member, no
person. These statuses precede every snapshot status in a household's life (identified, town_verified, then rejected
or registered), so a consumer orders the two kinds of event by that order; the snapshots' `event_sequence` counter
is left to them."""

import datetime as dt
import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import HouseholdStatusChanged
from fupin_kit.events.outbox import enqueue
from registry.config import COMPONENT
from registry.households.models import Household, Status

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
