"""Resident ID numbers (GB 11643): validation, masking, birth dates, and the keyed pseudonym that travels instead."""

import datetime as dt
import hashlib
import hmac

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from fupin_kit import clock


class InvalidResidentId(ValueError):
    """The number is not an 18-character resident ID with a valid birth date and MOD 11-2 check character."""


def validate_resident_id(value: str) -> str:
    """Return the normalised number (upper-case X) or raise InvalidResidentId.

    Checks length, digits, the ISO 7064 MOD 11-2 check character and the birth date (not in the future). The
    birth-place table of python-stdnum is not consulted: new division codes would otherwise be refused.
    """
    number = str(value).strip().upper()
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidResidentId("must be 18 characters: 17 digits and a digit or X")
    try:
        if ric.calc_check_digit(number) != number[17]:
            raise InvalidResidentId("check character does not match (ISO 7064 MOD 11-2)")
        born = ric.get_birth_date(number)
    except ValidationError as exc:
        raise InvalidResidentId("birth date is not a valid date") from exc
    if born > clock.today() or born.year < 1900:  # China's date: a baby born today there is valid
        raise InvalidResidentId("birth date is out of range")
    return number


def birth_date(id_number: str) -> dt.date:
    return ric.get_birth_date(id_number)


def age_on(id_number: str, day: dt.date) -> int:
    """Completed years of age on `day`."""
    return age_from_birth(birth_date(id_number), day)


def age_from_birth(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def mask_id_number(id_number: str) -> str:
    """First 6 and last 4 characters kept, the 8 between replaced by '*' (contract §0)."""
    return id_number[:6] + "*" * 8 + id_number[-4:]


def mask_name(name: str) -> str:
    """First character kept, the rest replaced by '*' (张三丰 -> 张**)."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def pseudonym(id_number: str, key: str) -> str:
    """Keyed pseudonym (HMAC-SHA256) of a resident ID number: lets services match a person without the number."""
    return hmac.new(key.encode(), id_number.upper().encode(), hashlib.sha256).hexdigest()
