"""Keeping the read model: upsert the household snapshot carried by every registry household event."""

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import HouseholdMember, HouseholdSnapshot
from microcredit.households.models import Household, Person


async def apply_snapshot(session: AsyncSession, *, snapshot: HouseholdSnapshot, occurred_at: dt.datetime) -> bool:
    """Upsert the household and its members unless a newer snapshot is already held; True when applied.

    Events about one household come on four topics, so they may arrive out of order: the snapshot time decides.
    """
    household_id = str(snapshot.household_id)
    values = dict(household_id=household_id, status=snapshot.status, village_code=snapshot.village_code,
                  county_code=snapshot.county_code, occurred_at=occurred_at)
    statement = insert(Household).values(**values)
    upsert = statement.on_conflict_do_update(
        index_elements=[Household.household_id], set_={k: statement.excluded[k] for k in values},
        where=col(Household.occurred_at) <= statement.excluded.occurred_at)
    applied = (await session.exec(upsert.returning(col(Household.household_id)))).first()
    if applied is None:
        return False
    for member in snapshot.members:
        await _upsert_member(session, member=member, household_id=household_id, occurred_at=occurred_at)
    refs = [m.person_ref for m in snapshot.members]
    await session.exec(delete(Person).where(
        col(Person.household_id) == household_id, col(Person.person_ref).not_in(refs),
        col(Person.occurred_at) <= occurred_at))
    return True


async def _upsert_member(session: AsyncSession, *, member: HouseholdMember, household_id: str,
                         occurred_at: dt.datetime) -> None:
    values = dict(person_ref=member.person_ref, household_id=household_id, member_id=str(member.member_id),
                  birth_date=member.birth_date, relation=member.relation, labor=member.labor, occurred_at=occurred_at)
    statement = insert(Person).values(**values)
    await session.exec(statement.on_conflict_do_update(
        index_elements=[Person.person_ref], set_={k: statement.excluded[k] for k in values},
        where=col(Person.occurred_at) <= statement.excluded.occurred_at))


async def person_with_household(session: AsyncSession, *, person_ref: str,
                                lock: bool = False) -> tuple[Person, Household] | tuple[None, None]:
    """The person and their household; with `lock`, the household row is held FOR UPDATE until commit."""
    person = (await session.exec(select(Person).where(Person.person_ref == person_ref))).first()
    if person is None:
        return None, None
    query = select(Household).where(Household.household_id == person.household_id)
    if lock:
        query = query.with_for_update()
    household = (await session.exec(query)).first()
    if household is None:
        return None, None
    return person, household
