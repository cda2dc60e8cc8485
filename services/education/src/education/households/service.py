"""Keeping the household read model: upserts by household_id and person_ref, newest snapshot wins."""

import datetime as dt

from sqlalchemy import delete, func, literal_column, or_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from education.households.models import Household, HouseholdMember
from fupin_events.payloads import HouseholdSnapshot

# First key of the two-int advisory lock that serialises an enrolment and a catch-up for one person.
PERSON_LOCK_NAMESPACE = 3006


async def lock_person(session: AsyncSession, *, person_ref: str) -> None:
    """Hold, until the transaction ends, the lock that orders enrolments and grant catch-ups of one person."""
    await session.exec(select(func.pg_advisory_xact_lock(PERSON_LOCK_NAMESPACE, func.hashtext(person_ref))))


async def apply_snapshot(session: AsyncSession, *, snapshot: HouseholdSnapshot, received_at: dt.datetime) -> bool:
    """Upsert the household and its members; False when a newer snapshot is already stored (a late delivery)."""
    as_of = snapshot.occurred_at or received_at
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.UTC)
    values = {"household_id": snapshot.household_id, "status": snapshot.status,
              "village_code": snapshot.village_code, "county_code": snapshot.county_code, "as_of": as_of}
    statement = insert(Household).values(**values)
    upsert = statement.on_conflict_do_update(
        index_elements=[col(Household.household_id)],
        set_={key: statement.excluded[key] for key in values if key != "household_id"},
        where=col(Household.as_of) <= statement.excluded.as_of,
    ).returning(col(Household.household_id))
    if (await session.exec(upsert)).first() is None:
        return False
    refs = [member.person_ref for member in snapshot.members]
    await session.exec(delete(HouseholdMember).where(
        col(HouseholdMember.household_id) == snapshot.household_id, col(HouseholdMember.person_ref).not_in(refs)))
    # A member follows the newest snapshot naming them: after a removal the registry lets a new household register
    # them, and the old household's late snapshot (another topic, consumed in no fixed order) must not take them
    # back. The conflicting row is named in SQL: SQLAlchemy does not correlate a subquery to an INSERT's target.
    current_as_of = (select(Household.as_of)
                     .where(col(Household.household_id) == literal_column("household_member.household_id"))
                     .scalar_subquery())
    for member in snapshot.members:
        row = {"person_ref": member.person_ref, "member_id": member.member_id, "birth_date": member.birth_date,
               "relation": member.relation, "labor": member.labor, "school_stage": member.school_stage,
               "boarding": member.boarding, "household_id": snapshot.household_id}
        member_insert = insert(HouseholdMember).values(**row)
        await session.exec(member_insert.on_conflict_do_update(
            index_elements=[col(HouseholdMember.person_ref)],
            set_={key: member_insert.excluded[key] for key in row if key != "person_ref"},
            where=or_(col(HouseholdMember.household_id) == snapshot.household_id, current_as_of <= as_of)))
    return True


async def household_of(session: AsyncSession, *, person_ref: str) -> Household | None:
    """The household the person belongs to in the read model, whatever its status."""
    statement = (select(Household)
                 .join(HouseholdMember, col(HouseholdMember.household_id) == col(Household.household_id))
                 .where(HouseholdMember.person_ref == person_ref))
    return (await session.exec(statement)).first()


async def member_refs(session: AsyncSession, *, household_id: object) -> list[str]:
    """The members' pseudonyms, sorted so that locks are always taken in the same order."""
    statement = (select(HouseholdMember.person_ref).where(HouseholdMember.household_id == household_id)
                 .order_by(col(HouseholdMember.person_ref)))
    return list((await session.exec(statement)).all())
