"""Household plans (因户施策): the five lines of support (五个一批), forward-only progress, references, causes left
without a measure. Pure functions."""

from collections.abc import Iterable

LINES = ("industry_employment", "relocation", "ecological", "education", "social_security")
CAUSES = ("illness", "disability", "education", "disaster", "lack_land", "lack_water", "lack_skills", "lack_labor",
          "lack_funds", "transport", "self_motivation", "other")  # contract §1
STATUSES = ("planned", "in_progress", "done")
# planned → in_progress → done, or planned → done; nothing goes back, nothing repeats.
TRANSITIONS = {"planned": frozenset({"in_progress", "done"}), "in_progress": frozenset({"done"}),
               "done": frozenset()}
# A grant (education) belongs to the education line, a loan (microcredit) to industry and employment.
REFERENCE_LINE = {"grant": "education", "loan": "industry_employment"}


def may_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def reference_allowed(line: str, kind: str | None) -> bool:
    return kind is None or REFERENCE_LINE.get(kind) == line


def causes_unaddressed(causes: Iterable[str], measure_causes: Iterable[str]) -> list[str]:
    """The household's causes that no measure names, in the household's order."""
    named = set(measure_causes)
    return [c for c in dict.fromkeys(causes) if c not in named]
