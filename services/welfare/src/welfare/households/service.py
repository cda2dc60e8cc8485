"""Reading the household read model (households and members, kept by the kit from the registry's snapshots:
`welfare.events.handlers`)."""

import datetime as dt

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import Unprocessable
from welfare.cases.rules import Member as MemberFacts
from welfare.households.models import Household, Member

REGISTERED_POOR = ("registered", "exited", "returned")
STILL_POOR = ("registered", "returned")


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
