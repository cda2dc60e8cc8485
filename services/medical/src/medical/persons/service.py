"""Answer "is this person registered poor?" from the household read model (kept by the kit, `handlers.py`)."""


from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import Unprocessable
from fupin_kit.ids import InvalidResidentId, mask_id_number, pseudonym, validate_resident_id
from medical.persons.models import Person


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

