"""Hospitals: master data the HIS refers to by code."""

from typing import Annotated

from pydantic import BaseModel
from pydantic import Field as In
from sqlmodel import Field, SQLModel

from fupin_kit.text import NoNul
from medical.columns import Timestamp, created_at, timestamp
from medical.settlements.rules import HospitalLevel

HOSPITAL_CODE_PATTERN = r"^[A-Za-z0-9_.-]{1,40}$"


class Hospital(SQLModel, table=True):
    __tablename__ = "hospitals"

    code: str = Field(primary_key=True)
    name: str
    level: str
    county_code: str = Field(index=True)
    created_at: Timestamp = created_at()
    updated_at: Timestamp = timestamp()


class HospitalIn(BaseModel):
    name: Annotated[str, NoNul] = In(min_length=1, max_length=200)
    level: HospitalLevel
    county_code: str = In(pattern=r"^\d{6}$")


class HospitalPublic(BaseModel):
    code: str
    name: str
    level: str
    county_code: str
