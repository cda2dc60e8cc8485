"""Administrative divisions (city, county, town, village) with the rural population behind poverty incidence."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import Column, DateTime, ForeignKey, String, func
from sqlmodel import Field, SQLModel

from fupin_kit.text import refuse_nul

INT4_MAX = 2_147_483_647


class Level(StrEnum):
    city = "city"
    county = "county"
    town = "town"
    village = "village"


class DivisionBase(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    level: Level
    parent_code: str | None = Field(default=None, max_length=12)
    poor: bool = False
    population: int = Field(ge=0, le=INT4_MAX)  # an INTEGER column


class Division(DivisionBase, table=True):
    __tablename__ = "division"

    code: str = Field(primary_key=True, max_length=12)
    level: Level = Field(sa_column=Column(String(10), nullable=False))
    parent_code: str | None = Field(
        default=None, sa_column=Column(String(12), ForeignKey("division.code"), index=True))
    exited_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # stamped by the database on INSERT (server default): None only until the flush
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class DivisionPut(DivisionBase):
    """Body of `PUT /registry/divisions/{code}`."""

    @field_validator("name")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        return refuse_nul(value)


class DivisionStats(SQLModel):
    households: int
    persons: int
    poor_persons: int
    poverty_incidence: str | None


class DivisionPublic(DivisionBase):
    code: str
    exited: bool
    exited_at: dt.datetime | None
    stats: DivisionStats


class DivisionExit(SQLModel, table=True):
    """Every village/county exit decision with the values it used, granted or refused."""

    __tablename__ = "division_exit"

    id: int | None = Field(default=None, primary_key=True)
    division_code: str = Field(sa_column=Column(String(12), ForeignKey("division.code"), nullable=False,
                                                index=True))
    policy_year: int
    poor_persons: int
    population: int
    poverty_incidence: Decimal | None = Field(default=None, max_digits=8, decimal_places=4)
    threshold: Decimal = Field(max_digits=6, decimal_places=4)
    exited: bool
    decided_by: str
    decided_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))
