"""Division codes as finance reads them (contract §1, §5): pure functions, no database."""

import re

JURISDICTION_PATTERN = r"^[1-9][0-9]{5}$"
VILLAGE_PATTERN = r"^[1-9][0-9]{11}$"
DIVISION_PATTERN = r"^[1-9][0-9]{5}([0-9]{3}([0-9]{3})?)?$"


def is_jurisdiction(code: str) -> bool:
    """A city or county code: 6 digits (contract §5: jurisdictions are the city and county division codes)."""
    return re.fullmatch(JURISDICTION_PATTERN, code) is not None


def county_of_village(village_code: str) -> str:
    """The county whose programme accounts pay for a household of this village: its first 6 digits (contract §5)."""
    return village_code[:6]


def city_of(jurisdiction_code: str) -> str:
    """The city (prefecture) enclosing a county: its first 4 digits followed by 00."""
    return jurisdiction_code[:4] + "00"


def village_prefix(division_code: str) -> str:
    """The prefix every village code under this division starts with.

    A 6-digit code ending in 00 is a city (its counties share the first 4 digits), 0000 a province; any other
    6-digit code is a county; a 9-digit code a town; a 12-digit code the village itself.
    """
    if len(division_code) == 6:
        if division_code.endswith("0000"):
            return division_code[:2]
        if division_code.endswith("00"):
            return division_code[:4]
    return division_code
