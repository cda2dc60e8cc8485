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


def identify(id_number: str, key: str | None = None) -> Person:
    """Validate and derive what the registry keeps; raises InvalidResidentId. `key` is the pseudonym key: a route's
    (the kit's `PseudonymKey` dependency); None for the bulk importer's background task, which has no request and
    reads the same key from the settings."""
    number = validate_resident_id(id_number)
    # The kit has checked the date already; reading it back directly spares stdnum's slower parse (bulk intake).
    born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    key = get_settings().pseudonym_key.get_secret_value() if key is None else key
    return Person(pseudonym(number, key), mask_id_number(number), born)


def identify_or_422(id_number: str, *, key: str, field: str, who: str) -> Person:
    """`422 invalid_id_number` naming the field (e.g. `members[2].id_number`) and the member."""
    try:
        return identify(id_number, key)
    except InvalidResidentId as exc:
        raise Unprocessable("invalid_id_number", f"{who}: the resident ID number is invalid ({exc})",
                            errors=[{"field": field, "message": str(exc)}]) from exc
