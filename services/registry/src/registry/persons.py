"""Resident ID numbers at the registry's edge: validated, turned into the keyed pseudonym, never kept in plain."""

import datetime as dt
from dataclasses import dataclass

from fupin_kit.errors import Unprocessable
from fupin_kit.ids import InvalidResidentId, mask_id_number, pseudonym, validate_resident_id
from registry.config import get_settings


@dataclass(frozen=True)
class Person:
    person_ref: str
    masked_id_number: str
    birth_date: dt.date


def person_ref(id_number: str) -> str:
    return pseudonym(id_number, get_settings().pseudonym_key.get_secret_value())


def identify(id_number: str) -> Person:
    """Validate and derive what the registry keeps; raises InvalidResidentId."""
    number = validate_resident_id(id_number)
    # The kit has checked the date already; reading it back directly spares stdnum's slower parse (bulk intake).
    born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return Person(person_ref(number), mask_id_number(number), born)


def identify_or_422(id_number: str, *, field: str, who: str) -> Person:
    """`422 invalid_id_number` naming the field (e.g. `members[2].id_number`) and the member."""
    try:
        return identify(id_number)
    except InvalidResidentId as exc:
        raise Unprocessable("invalid_id_number", f"{who}: the resident ID number is invalid ({exc})",
                            errors=[{"field": field, "message": str(exc)}]) from exc
