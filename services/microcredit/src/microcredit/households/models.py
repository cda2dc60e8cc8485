"""The local read model of registry households (contract §6 household events), keyed by person_ref."""

import datetime as dt

from sqlalchemy import BigInteger, Column, DateTime
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)


class Household(SQLModel, table=True):
    """The latest snapshot of a registry household, kept by the kit (`fupin_kit.events.households`): the registry's
    `sequence` orders snapshots arriving on different topics."""

    __tablename__ = "households"

    household_id: str = Field(primary_key=True)
    status: str
    village_code: str
    county_code: str = Field(index=True)
    occurred_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sequence: int | None = Field(default=None, sa_column=Column(BigInteger))


class Person(SQLModel, table=True):
    """A member of a household, found by the pseudonym of the ID number; never the number itself."""

    __tablename__ = "persons"

    person_ref: str = Field(primary_key=True)
    household_id: str = Field(index=True)
    member_id: str | None = None  # the registry's member id (contract v2 §6); no masked number (v2 §0)
    birth_date: dt.date | None = None
    relation: str
    labor: str
    occurred_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
