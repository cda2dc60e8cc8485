"""The school stages of contract §1 (`school_stage`) and §3 (`stage`)."""

from enum import StrEnum


class Stage(StrEnum):
    PRESCHOOL = "preschool"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    SECONDARY_VOCATIONAL = "secondary_vocational"
    HIGHER_VOCATIONAL = "higher_vocational"
    UNIVERSITY = "university"
