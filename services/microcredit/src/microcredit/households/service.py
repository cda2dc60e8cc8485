"""Keeping the read model: upsert the household snapshot carried by every registry household event."""

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from microcredit.households.models import Household, Person


class MemberSnapshot(BaseModel):
    person_ref: str = Field(min_length=16, max_length=128)
    masked_id_number: str = ""
    birth_date: dt.date | None = None
    relation: str = "other"
    labor: Literal["full", "partial", "none"] = "none"


class HouseholdSnapshot(BaseModel):
    """docs/conventions.md "Household events"; fields this service does not use are ignored."""

    household_id: str = Field(min_length=1, max_length=64)
    status: str = Field(min_length=1, max_length=32)
    village_code: str = Field(pattern=r"^\d{12}$")
    county_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    members: list[MemberSnapshot] = []
    occurred_at: dt.datetime | None = None


async def apply_snapshot(session: AsyncSession, *, snapshot: HouseholdSnapshot, occurred_at: dt.datetime) -> bool:
    """Upsert the household and its members unless a newer snapshot is already held; True when applied.

    Events about one household come on four topics, so they may arrive out of order: the snapshot time decides.
    """
    values = dict(household_id=snapshot.household_id, status=snapshot.status, village_code=snapshot.village_code,
                  county_code=snapshot.county_code or snapshot.village_code[:6], occurred_at=occurred_at)
    statement = insert(Household).values(**values)
    upsert = statement.on_conflict_do_update(
        index_elements=[Household.household_id], set_={k: statement.excluded[k] for k in values},
        where=col(Household.occurred_at) <= statement.excluded.occurred_at)
    applied = (await session.exec(upsert.returning(col(Household.household_id)))).first()
    if applied is None:
        return False
    for member in snapshot.members:
        await _upsert_member(session, member=member, household_id=snapshot.household_id, occurred_at=occurred_at)
    refs = [m.person_ref for m in snapshot.members]
    await session.exec(delete(Person).where(
        col(Person.household_id) == snapshot.household_id, col(Person.person_ref).not_in(refs),
        col(Person.occurred_at) <= occurred_at))
    return True


async def _upsert_member(session: AsyncSession, *, member: MemberSnapshot, household_id: str,
                         occurred_at: dt.datetime) -> None:
    values = dict(person_ref=member.person_ref, household_id=household_id, masked_id_number=member.masked_id_number,
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
