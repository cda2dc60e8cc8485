"""Keep the read model of registry households and answer "is this person registered poor?"."""

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import HouseholdSnapshot
from fupin_kit.errors import Unprocessable
from fupin_kit.ids import InvalidResidentId, mask_id_number, pseudonym, validate_resident_id
from medical.persons.models import Person


async def apply_household_snapshot(session: AsyncSession, *, snapshot: HouseholdSnapshot,
                                   occurred_at: dt.datetime) -> None:
    """Upsert every member; a snapshot older than what is stored for a person changes nothing for that person
    (events about different households are not ordered with each other)."""
    county = snapshot.county_code  # contract §5: the first 6 digits of the village code
    now = dt.datetime.now(dt.UTC)
    for member in snapshot.members:
        values = {"person_ref": member.person_ref, "household_id": snapshot.household_id,
                  "household_status": snapshot.status, "village_code": snapshot.village_code,
                  "county_code": county, "member_id": member.member_id,
                  "occurred_at": occurred_at, "updated_at": now}
        statement = insert(Person).values(**values)
        await session.exec(statement.on_conflict_do_update(
            index_elements=[col(Person.person_ref)],
            set_={key: statement.excluded[key] for key in values if key != "person_ref"},
            where=col(Person.occurred_at) <= statement.excluded.occurred_at))
    current = [m.person_ref for m in snapshot.members]
    await session.exec(delete(Person).where(
        col(Person.household_id) == snapshot.household_id, col(Person.person_ref).not_in(current),
        col(Person.occurred_at) <= occurred_at))


def person_ref_of(id_number: str, key: str) -> tuple[str, str]:
    """(person_ref, masked number) for a caller's resident ID number, or 422 invalid_id_number."""
    try:
        number = validate_resident_id(id_number)
    except InvalidResidentId as exc:
        raise Unprocessable("invalid_id_number", f"id_number is not a valid resident ID number: {exc}",
                            errors=[{"field": "id_number", "message": str(exc)}]) from exc
    return pseudonym(number, key), mask_id_number(number)


async def find_person(session: AsyncSession, *, person_ref: str) -> Person | None:
    return await session.get(Person, person_ref)

