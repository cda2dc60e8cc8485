"""The local read model of registry households (contract v2 §6 household snapshots)."""

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)


class Household(SQLModel, table=True):
    """The latest snapshot of a registry household; `sequence` (else `occurred_at`) orders snapshots."""

    __tablename__ = "households"

    household_id: str = Field(primary_key=True)
    status: str
    village_code: str = Field(index=True)
    town_code: str
    county_code: str = Field(index=True)
    causes: list[Any] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    occurred_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sequence: int | None = Field(default=None, sa_column=Column(BigInteger))


class Member(SQLModel, table=True):
    """A member as the registry names it (`member_id`), found by person_ref; never an ID number."""

    __tablename__ = "members"

    member_id: str = Field(primary_key=True)
    household_id: str = Field(index=True)
    person_ref: str = Field(index=True)
    birth_date: dt.date
    relation: str
    labor: str
    position: int = 0
