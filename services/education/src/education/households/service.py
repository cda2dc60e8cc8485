"""Reading the household read model (kept by the kit from the registry's snapshots, `events/handlers.py`)."""


from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from education.households.models import Household, HouseholdMember

# First key of the two-int advisory lock that serialises an enrolment and a catch-up for one person.
PERSON_LOCK_NAMESPACE = 3006


async def lock_person(session: AsyncSession, *, person_ref: str) -> None:
    """Hold, until the transaction ends, the lock that orders enrolments and grant catch-ups of one person."""
    await session.exec(select(func.pg_advisory_xact_lock(PERSON_LOCK_NAMESPACE, func.hashtext(person_ref))))


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
