"""The local read model of the registry's household snapshots (`fupin_events.payloads.HouseholdSnapshot`)."""

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Column, DateTime
from sqlmodel import Field, SQLModel


class Household(SQLModel, table=True):
    __tablename__ = "household"

    household_id: uuid.UUID = Field(primary_key=True)
    status: str = Field(max_length=20)
    village_code: str = Field(max_length=12, index=True)
    county_code: str = Field(max_length=6)
    # Kept by the kit (`fupin_kit.events.households`): the registry's `sequence` orders snapshots (an older one
    # delivered late never overwrites a newer one); `occurred_at` decides which household a moved member belongs to.
    occurred_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sequence: int | None = Field(default=None, sa_column=Column(BigInteger))


class HouseholdMember(SQLModel, table=True):
    __tablename__ = "household_member"

    person_ref: str = Field(primary_key=True, max_length=64)
    household_id: uuid.UUID = Field(foreign_key="household.household_id", index=True)
    # The registry's member id (contract v2 §6); no masked number: with the birth date it rebuilds the ID (v2 §0).
    member_id: uuid.UUID | None = None
    birth_date: dt.date
    relation: str = Field(max_length=20)
    labor: str | None = Field(default=None, max_length=10)
    school_stage: str | None = Field(default=None, max_length=30)
    boarding: bool = False
