"""控辍保学: which children are of compulsory-school age, and which villages a division code covers."""

import datetime as dt

from fupin_kit.ids import age_from_birth

YOUNGEST, OLDEST = 6, 15  # contract §3: children aged 6 to 15, both included


def school_age(born: dt.date, on: dt.date) -> int | None:
    """The child's age on `on` when it is 6 to 15 (compulsory education, 义务教育), else None."""
    age = age_from_birth(born, on)
    return age if YOUNGEST <= age <= OLDEST else None


def village_prefix(division_code: str) -> str:
    """The prefix every village code of the division starts with.

    A county (6 digits), town (9) or village (12) code is its own prefix. A 6-digit city or province code ends in
    `00` (GB/T 2260: 610700 is a city, 610000 a province) and covers the villages of its counties, 6107… or 61….
    """
    prefix = division_code
    while len(prefix) in (6, 4) and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix
