"""Request and answer bodies of the household routes."""

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from fupin_kit import clock
from fupin_kit.money import Money
from fupin_kit.text import Text
from registry.households.models import Status


class Relation(StrEnum):
    head = "head"
    spouse = "spouse"
    child = "child"
    parent = "parent"
    grandchild = "grandchild"
    sibling = "sibling"
    other = "other"


class Health(StrEnum):
    healthy = "healthy"
    chronic = "chronic"
    serious = "serious"
    disabled = "disabled"


class Labor(StrEnum):
    full = "full"
    partial = "partial"
    none = "none"


class SchoolStage(StrEnum):
    preschool = "preschool"
    primary = "primary"
    junior = "junior"
    senior = "senior"
    secondary_vocational = "secondary_vocational"
    higher_vocational = "higher_vocational"
    university = "university"


class Cause(StrEnum):
    illness = "illness"
    disability = "disability"
    education = "education"
    disaster = "disaster"
    lack_land = "lack_land"
    lack_water = "lack_water"
    lack_skills = "lack_skills"
    lack_labor = "lack_labor"
    lack_funds = "lack_funds"
    transport = "transport"
    self_motivation = "self_motivation"
    other = "other"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Indicators(Strict):
    """The 两不愁三保障 plus safe drinking water: all five must hold for exit."""

    food_clothing_secure: bool
    compulsory_education_ok: bool
    basic_medical_ok: bool
    housing_safe: bool
    drinking_water_safe: bool


def _not_after_next_year(year: int) -> int:
    """The upper bound is next year by China's clock, taken per request (a bound computed at import would stay the
    year the process started in); the same error as a `le` constraint."""
    bound = clock.today().year + 1
    if year > bound:
        raise PydanticCustomError("less_than_equal", "Input should be less than or equal to {le}", {"le": bound})
    return year


# An income year: from 1990 to next year.
IncomeYear = Annotated[int, Field(ge=1990), AfterValidator(_not_after_next_year)]


class MemberIn(Strict):
    # ID numbers are checked by the service so that the answer is `invalid_id_number` naming the member.
    id_number: str = Field(max_length=32)
    name: Text = Field(min_length=1, max_length=50)
    relation: Relation
    health: Health = Health.healthy
    disability_grade: Literal[1, 2, 3, 4] | None = None
    labor: Labor
    school_stage: SchoolStage | None = None
    boarding: bool = False


class HouseholdCreate(Strict):
    village_code: str = Field(max_length=12)
    head_id_number: str = Field(max_length=32)
    annual_income: Money
    income_year: IncomeYear
    causes: list[Cause] = Field(min_length=1, max_length=12)
    indicators: Indicators
    low_income_guarantee: bool = False
    members: list[MemberIn] = Field(min_length=1, max_length=30)

    @field_validator("causes")
    @classmethod
    def _distinct_causes(cls, causes: list[Cause]) -> list[Cause]:
        return list(dict.fromkeys(causes))


class MemberPublic(BaseModel):
    """Beside the masked number at most the birth year and the age: the full birth date is exactly the 8 masked
    characters (contract v2 §0)."""

    member_id: uuid.UUID
    masked_id_number: str
    name: str
    birth_year: int
    age: int
    relation: str
    health: str
    disability_grade: int | None
    labor: str
    school_stage: str | None
    boarding: bool


class StatusChangePublic(BaseModel):
    from_status: str | None
    to_status: str
    action: str
    actor: str
    officer: str | None
    reason: str | None
    at: dt.datetime


class HouseholdPublic(BaseModel):
    household_id: uuid.UUID
    status: Status
    village_code: str
    town_code: str
    county_code: str
    annual_income: Money
    income_year: int
    per_capita_income: Money
    causes: list[str]
    indicators: Indicators
    low_income_guarantee: bool
    member_count: int
    members: list[MemberPublic]
    history: list[StatusChangePublic]
    created_at: dt.datetime
    updated_at: dt.datetime


class PersonLookup(Strict):
    id_number: str = Field(max_length=32)


class PersonFound(BaseModel):
    household_id: uuid.UUID
    status: Status
    village_code: str
    relation: str
    masked_id_number: str


class Reason(Strict):
    reason: Text = Field(min_length=1, max_length=2000)
