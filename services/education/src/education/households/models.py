"""The local read model of the registry's household snapshots (household events of docs/conventions.md)."""

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


class Household(SQLModel, table=True):
    __tablename__ = "household"

    household_id: uuid.UUID = Field(primary_key=True)
    status: str = Field(max_length=20)
    village_code: str = Field(max_length=12, index=True)
    county_code: str = Field(max_length=6)
    # The snapshot's occurred_at: an older snapshot delivered late never overwrites a newer one.
    as_of: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class HouseholdMember(SQLModel, table=True):
    __tablename__ = "household_member"

    person_ref: str = Field(primary_key=True, max_length=64)
    household_id: uuid.UUID = Field(foreign_key="household.household_id", index=True)
    masked_id_number: str = Field(max_length=18)
    birth_date: dt.date
    relation: str = Field(max_length=20)
    labor: str | None = Field(default=None, max_length=10)
    school_stage: str | None = Field(default=None, max_length=30)
    boarding: bool = False


class MemberSnapshot(BaseModel):
    model_config = ConfigDict(extra="ignore")

    person_ref: str = PydanticField(min_length=16, max_length=64)
    masked_id_number: str = PydanticField(max_length=18)
    birth_date: dt.date
    relation: str = PydanticField("other", max_length=20)
    labor: str | None = PydanticField(None, max_length=10)
    school_stage: str | None = PydanticField(None, max_length=30)
    boarding: bool = False


class HouseholdSnapshot(BaseModel):
    """The payload of household-registered, exit-certified, returned-to-poverty and household-removed."""

    model_config = ConfigDict(extra="ignore")

    household_id: uuid.UUID
    status: str = PydanticField(max_length=20)
    village_code: str = PydanticField(pattern=r"^\d{12}$")
    county_code: str | None = PydanticField(None, pattern=r"^\d{6}$")
    members: list[MemberSnapshot] = []
    occurred_at: dt.datetime | None = None

    @property
    def county(self) -> str:
        return self.county_code or self.village_code[:6]
