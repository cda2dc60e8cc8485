"""API shapes of targets, misuse findings, assessments and summonses."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, PlainSerializer

from fupin_kit.money import Money
from fupin_kit.text import Text

CountyCode = Annotated[str, Field(pattern=r"^\d{6}$")]
Score = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
Note = Annotated[Text, Field(max_length=2000)]


class TargetsIn(BaseModel):
    households_to_exit: int = Field(ge=0, le=10_000_000)
    villages_to_exit: int = Field(ge=0, le=100_000)
    funds_to_spend: Money


class TargetsOut(TargetsIn):
    county_code: str
    year: int


class FindingIn(BaseModel):
    county_code: CountyCode
    year: int = Field(ge=2000, le=2100)
    found_on: dt.date
    amount: Money
    reference: Annotated[Text, Field(max_length=200)] | None = None
    note: Note | None = None


class FindingOut(BaseModel):
    finding_id: str
    county_code: str
    year: int
    found_on: dt.date
    amount: Money
    reference: str | None
    note: str | None


class AssessmentIn(BaseModel):
    county_code: CountyCode
    year: int = Field(ge=2000, le=2100)


class AssessmentOut(BaseModel):
    assessment_id: str
    county_code: str
    year: int
    final: bool
    reference_date: dt.date
    assessed_on: dt.date
    targets: dict[str, Any]
    actuals: dict[str, Any]
    ratios: dict[str, Any]
    policy: dict[str, Any]
    score: Score
    vetoes: list[str]
    reasons: list[str]
    verdict: str
    summons_id: str | None


class SummonsOut(BaseModel):
    summons_id: str
    county_code: str
    year: int
    assessment_id: str
    reasons: list[str]
    status: str
    held_on: dt.date | None
    note: str | None


class RecordIn(BaseModel):
    held_on: dt.date
    note: Note | None = None
