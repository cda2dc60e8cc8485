"""Reading the household read model (kept by the kit from the registry's snapshots, `events/handlers.py`)."""


from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from microcredit.households.models import Household, Person


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
