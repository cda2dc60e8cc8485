"""Statistical division codes (contract §1): 6 digits for a city or county, 9 for a town, 12 for a village; a town's
code starts with its county's, a village's with its town's."""

from registry.divisions.models import Level

CODE_LENGTH = {Level.city: 6, Level.county: 6, Level.town: 9, Level.village: 12}
# The level a parent must have; None means no parent is allowed. A county may stand alone or under a city.
PARENT_LEVELS: dict[Level, tuple[Level | None, ...]] = {
    Level.city: (None,),
    Level.county: (None, Level.city),
    Level.town: (Level.county,),
    Level.village: (Level.town,),
}


def is_code(value: str | None) -> bool:
    """Digits only (ASCII), the shape of every division code; anything else cannot name a division."""
    return value is not None and value.isascii() and value.isdigit()


def division_code_problem(code: str, level: Level, parent_code: str | None, parent_level: Level | None) -> str | None:
    """Why `code` cannot be a division of `level` under the given parent, or None when it fits."""
    if not is_code(code) or len(code) != CODE_LENGTH[level]:
        return f"a {level} code has {CODE_LENGTH[level]} digits"
    if parent_code is None:
        return None if None in PARENT_LEVELS[level] else f"a {level} needs a parent"
    if parent_level is None:
        return "the parent division does not exist"
    if parent_level not in PARENT_LEVELS[level]:
        return f"a {level} cannot be under a {parent_level}"
    if level in (Level.town, Level.village) and not code.startswith(parent_code):
        return f"a {level} code starts with its parent's code {parent_code}"
    return None
