"""Academic years (学年) run from 1 September to 31 August and are written `YYYY-YYYY+1` (contract §3)."""

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

_PATTERN = re.compile(r"^(\d{4})-(\d{4})$")
FIRST_MONTH = 9  # September


def is_academic_year(value: str) -> bool:
    """`2020-2021` is an academic year; `2020-2022`, `2020/2021` and `20-21` are not."""
    match = _PATTERN.match(value)
    if match is None:
        return False
    first, second = int(match[1]), int(match[2])
    return 1949 < first < 2200 and second == first + 1


def academic_year_on(day: dt.date) -> str:
    """The academic year a day falls in: 31 August 2027 is in 2026-2027, 1 September 2027 in 2027-2028."""
    start = day.year if day.month >= FIRST_MONTH else day.year - 1
    return f"{start}-{start + 1}"


def _checked(value: str) -> str:
    if not is_academic_year(value):
        raise ValueError("must be an academic year written YYYY-YYYY+1, e.g. 2020-2021")
    return value


AcademicYear = Annotated[str, AfterValidator(_checked),
                         WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{4}$", "examples": ["2020-2021"]})]
