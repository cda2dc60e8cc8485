"""Keeping the read model and reading it: households and members from the registry's snapshots."""

import datetime as dt

from sqlalchemy import delete, or_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import HouseholdSnapshot
from fupin_kit.errors import Unprocessable
from welfare.cases.rules import Member as MemberFacts
from welfare.households.models import Household, Member

REGISTERED_POOR = ("registered", "exited", "returned")
STILL_POOR = ("registered", "returned")


async def apply_snapshot(session: AsyncSession, snapshot: HouseholdSnapshot) -> bool:
    """Upsert the household and replace its members unless a newer snapshot is held; True when applied.

    Events about one household come on four topics and may arrive out of order: the registry's `sequence` decides
    when both snapshots carry one, else the snapshot time."""
    household_id = str(snapshot.household_id)
    values = dict(household_id=household_id, status=snapshot.status, village_code=snapshot.village_code,
                  town_code=snapshot.town_code, county_code=snapshot.county_code, causes=list(snapshot.causes),
                  occurred_at=snapshot.occurred_at, sequence=snapshot.sequence)
    statement = insert(Household).values(**values)
    newer = or_(
        (col(Household.sequence).is_not(None) & statement.excluded.sequence.is_not(None)
         & (col(Household.sequence) <= statement.excluded.sequence)),
        ((col(Household.sequence).is_(None) | statement.excluded.sequence.is_(None))
         & (col(Household.occurred_at) <= statement.excluded.occurred_at)))
    upsert = statement.on_conflict_do_update(index_elements=[Household.household_id],
                                             set_={k: statement.excluded[k] for k in values}, where=newer)
    applied = (await session.exec(upsert.returning(col(Household.household_id)))).first()
    if applied is None:
        return False
    await session.exec(delete(Member).where(col(Member.household_id) == household_id))
    ids = [str(m.member_id) for m in snapshot.members]
    if ids:  # a member moved here from another household leaves that one
        await session.exec(delete(Member).where(col(Member.member_id).in_(ids)))
        await session.exec(insert(Member).values([
            dict(member_id=str(m.member_id), household_id=household_id, person_ref=m.person_ref,
                 birth_date=m.birth_date, relation=m.relation, labor=m.labor, position=i)
            for i, m in enumerate(snapshot.members)]))
    return True


async def get_household(session: AsyncSession, household_id: str, *, lock: bool = False) -> Household | None:
    query = select(Household).where(Household.household_id == household_id)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def registered_poor(session: AsyncSession, household_id: str, *, lock: bool = False) -> Household:
    """The household if it is registered poor here (registered, exited, returned), else 422 not_registered_poor."""
    household = await get_household(session, household_id, lock=lock)
    if household is None or household.status not in REGISTERED_POOR:
        raise Unprocessable("not_registered_poor",
                            "the household is not registered poor (registered, exited or returned) here",
                            errors=[{"field": "household_id", "message": "not a registered poor household"}])
    return household


async def members_of(session: AsyncSession, household_id: str) -> list[Member]:
    return list((await session.exec(select(Member).where(Member.household_id == household_id)
                                    .order_by(col(Member.position)))).all())


def facts(members: list[Member]) -> list[MemberFacts]:
    return [MemberFacts(m.member_id, m.birth_date) for m in members]


async def member_by_person_ref(session: AsyncSession, person_ref: str) -> tuple[Member, Household] | None:
    """The person's membership; of several (moved households) the registered-poor one, else any."""
    rows = (await session.exec(select(Member, Household).join(
        Household, col(Household.household_id) == col(Member.household_id)).where(
        Member.person_ref == person_ref))).all()
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: (r[1].status in REGISTERED_POOR, r[1].occurred_at))
    member, household = rows[-1]
    return member, household


def count_on(members: list[Member], day: dt.date) -> int:
    return sum(1 for m in members if m.birth_date <= day)
