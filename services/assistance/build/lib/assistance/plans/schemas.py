"""API shapes of household plans."""

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from assistance.helpers.schemas import PairingOut
from fupin_kit.text import Text

Line = Literal["industry_employment", "relocation", "ecological", "education", "social_security"]
Cause = Literal["illness", "disability", "education", "disaster", "lack_land", "lack_water", "lack_skills",
                "lack_labor", "lack_funds", "transport", "self_motivation", "other"]


class ReferenceIO(BaseModel):
    kind: Literal["grant", "loan"]
    id: Annotated[Text, Field(min_length=1, max_length=64)]


class MeasureIn(BaseModel):
    line: Line
    cause: Cause
    description: Annotated[Text, Field(min_length=1, max_length=2000)]
    planned_year: int = Field(ge=2000, le=2100)
    reference: ReferenceIO | None = None


class ProgressIn(BaseModel):
    status: Literal["in_progress", "done"]
    on: dt.date


class MeasureOut(BaseModel):
    measure_id: str
    household_id: str
    village_code: str
    line: str
    cause: str
    description: str
    planned_year: int
    reference: ReferenceIO | None
    status: str
    started_on: dt.date | None
    completed_on: dt.date | None


class PlanOut(BaseModel):
    household_id: str
    status: str
    village_code: str
    causes: list[str]
    pairing: PairingOut | None
    measures: list[MeasureOut]
    causes_unaddressed: list[str]
