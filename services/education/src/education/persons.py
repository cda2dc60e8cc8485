"""Resident ID numbers received from callers: validated (422 invalid_id_number), never stored or logged plain."""

from fupin_kit.errors import Unprocessable, field_errors
from fupin_kit.ids import InvalidResidentId, validate_resident_id


def checked_id_number(value: str, *, field: str = "id_number") -> str:
    try:
        return validate_resident_id(value)
    except InvalidResidentId as exc:
        raise Unprocessable("invalid_id_number", f"{field} is not a valid resident ID number: {exc}",
                            errors=field_errors(field, str(exc))) from exc
