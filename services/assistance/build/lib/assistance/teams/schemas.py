"""API shapes of units, village pairings, teams, members and attendance."""

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from fupin_kit.text import Text

Name = Annotated[Text, Field(min_length=1, max_length=200)]
Note = Annotated[Text, Field(max_length=1000)]
VillageCode = Annotated[str, Field(pattern=r"^\d{12}$")]
Id = Annotated[Text, Field(min_length=1, max_length=64)]


class UnitIn(BaseModel):
    name: Name
    kind: Literal["central", "provincial", "municipal", "county", "enterprise", "social_organization"]


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    unit_id: str
    name: str
    kind: str


class VillagePairingIn(BaseModel):
    village_code: VillageCode
    starts_on: dt.date


class EndIn(BaseModel):
    ended_on: dt.date
    reason: Note | None = None


class VillagePairingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    village_pairing_id: str
    unit_id: str
    village_code: str
    starts_on: dt.date
    status: str
    ended_on: dt.date | None = None
    reason: str | None = None


class TeamIn(BaseModel):
    village_code: VillageCode
    unit_id: Id
    formed_on: dt.date


class MemberIn(BaseModel):
    name: Annotated[Text, Field(min_length=1, max_length=100)]
    role: Literal["first_secretary", "captain", "member"]
    background: Literal["cadre", "agri_technician", "college_graduate_official", "other"]
    joined_on: dt.date


class LeaveIn(BaseModel):
    left_on: dt.date


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    team_member_id: str
    team_id: str
    name: str
    role: str
    background: str
    joined_on: dt.date
    status: str
    left_on: dt.date | None = None


class TeamOut(BaseModel):
    team_id: str
    village_code: str
    unit_id: str
    formed_on: dt.date
    status: str
    withdrawn_on: dt.date | None = None
    withdrawal_reason: str | None = None
    members: list[MemberOut]


class AttendanceIn(BaseModel):
    days_present: int = Field(ge=0, le=366)


class AttendanceOut(BaseModel):
    team_member_id: str
    year: int
    days_present: int
    days_on_team: int
    required_days: int
    meets_minimum: bool


class MemberAttendance(BaseModel):
    team_member_id: str
    role: str
    days_present: int
    days_on_team: int
    required_days: int
    meets_minimum: bool


class TeamAttendanceOut(BaseModel):
    team_id: str
    year: int
    min_days: int
    members: list[MemberAttendance]


class WithdrawalIn(BaseModel):
    withdrawn_on: dt.date
    reason: Note | None = None
