"""From a resident ID number to the pseudonym that keys the read model (the number itself is never stored)."""

from fupin_kit.ids import pseudonym
from welfare.config import get_settings


def person_ref_of(id_number: str) -> str:
    return pseudonym(id_number, get_settings().pseudonym_key.get_secret_value())
