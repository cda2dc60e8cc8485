"""API shapes of helpers, pairings and coverage."""

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from fupin_kit.text import Text

Name = Annotated[Text, Field(min_length=1, max_length=100)]
Note = Annotated[Text, Field(max_length=1000)]


class HelperIn(BaseModel):
    name: Name
    unit_id: Annotated[Text, Field(max_length=64)] | None = None
    phone: Annotated[Text, Field(max_length=32, pattern=r"^[0-9+\- ]*$")] | None = None


class PairingIn(BaseModel):
    helper_id: Annotated[Text, Field(min_length=1, max_length=64)]
    household_id: Annotated[Text, Field(min_length=1, max_length=64)]
    starts_on: dt.date


class EndIn(BaseModel):
    ended_on: dt.date
    reason: Note | None = None


class PairingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    pairing_id: str
    helper_id: str
    household_id: str
    village_code: str
    county_code: str
    starts_on: dt.date
    status: str
    ended_on: dt.date | None = None
    reason: str | None = None
    reason_code: str | None = None


class HelperOut(BaseModel):
    helper_id: str
    name: str
    unit_id: str | None
    phone: str | None
    active_households: int
    pairings: list[PairingOut]


class HouseholdGap(BaseModel):
    household_id: str
    village_code: str
    status: str


class TeamShort(BaseModel):
    team_id: str
    village_code: str
    lacks: list[str]


class CoverageOut(BaseModel):
    division_code: str
    level: str
    still_poor_households: int
    with_helper: int
    helper_coverage: str
    households_without_helper: list[HouseholdGap]
    poor_villages: int
    villages_without_unit: list[str]
    villages_without_team: list[str]
    teams_short: list[TeamShort]
