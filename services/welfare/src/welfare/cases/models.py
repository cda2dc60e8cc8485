"""低保 cases and their income assessments; disability grades live here only and travel in no event."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import BigInteger, Column, DateTime, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.money import Money, money_column
from fupin_kit.text import Text

OPEN_STATUSES = ("active", "gradual_exit")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Case(SQLModel, table=True):
    """`closes_from` (YYYY-MM) is set during a gradual exit: from that month the case is closed
    (reason income_above_line); the stored status is brought up to date whenever the case is read or written."""

    __tablename__ = "cases"

    case_id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    household_id: str = SQLField(index=True)
    county_code: str
    village_code: str
    status: str
    opened_on: dt.date
    closes_from: str | None = None
    closed_on: dt.date | None = None
    close_reason: str | None = None
    created_by: str
    created_at: dt.datetime = SQLField(
        default_factory=now, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False))


class CaseAssessment(SQLModel, table=True):
    """An income assessment; `disabled` maps member_id to the certificate's grade, in force from this assessment."""

    __tablename__ = "case_assessments"

    id: int | None = SQLField(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    case_id: uuid.UUID = SQLField(index=True, foreign_key="cases.case_id")
    assessed_on: dt.date
    annual_income: Decimal = money_column()
    disabled: dict[str, int] = SQLField(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    created_at: dt.datetime = SQLField(
        default_factory=now, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False))


class DisabledMember(BaseModel):
    member_id: Annotated[Text, Field(min_length=1, max_length=64)]
    disability_grade: Literal[1, 2, 3, 4]


def _unique_members(members: list[DisabledMember]) -> list[DisabledMember]:
    seen = set()
    for member in members:
        if member.member_id in seen:
            raise ValueError(f"member {member.member_id} is listed twice")
        seen.add(member.member_id)
    return members


class CaseIn(BaseModel):
    household_id: Annotated[Text, Field(min_length=1, max_length=64)]
    annual_income: Money
    assessed_on: dt.date
    opened_on: dt.date
    disabled_members: list[DisabledMember] = Field(default_factory=list, max_length=50)

    _unique = field_validator("disabled_members")(_unique_members)


class AssessmentIn(BaseModel):
    annual_income: Money
    assessed_on: dt.date
    disabled_members: list[DisabledMember] | None = Field(default=None, max_length=50)

    @field_validator("disabled_members")
    @classmethod
    def _unique(cls, value: list[DisabledMember] | None) -> list[DisabledMember] | None:
        return None if value is None else _unique_members(value)


class ClosureIn(BaseModel):
    closed_on: dt.date
    reason: Annotated[Text, Field(min_length=1, max_length=500)]
