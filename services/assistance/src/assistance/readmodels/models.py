"""Read models kept from the registry's and finance's events (contract §6): the service knows households, divisions
and payments only from them. Ids, codes, dates and amounts only; never a name or an ID number."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.money import numeric


class Household(SQLModel, table=True):
    """The latest snapshot of a registry household (`sequence`, else `occurred_at`, orders snapshots)."""

    __tablename__ = "households"

    household_id: str = Field(primary_key=True)
    status: str
    village_code: str = Field(index=True)
    town_code: str
    county_code: str = Field(index=True)
    causes: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    occurred_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sequence: int | None = None


class HouseholdEvent(SQLModel, table=True):
    """Every household event received, dated by its `time` in China Standard Time: the assessment's history."""

    __tablename__ = "household_events"

    event_id: str = Field(primary_key=True)
    household_id: str = Field(index=True)
    kind: str  # registered | exited | returned | removed
    county_code: str = Field(index=True)
    village_code: str
    at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    event_on: dt.date


class Division(SQLModel, table=True):
    __tablename__ = "divisions"

    code: str = Field(primary_key=True)
    level: str
    parent_code: str | None = None
    name: str | None = None
    poor: bool = False
    population: int = 0
    updated_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DivisionExit(SQLModel, table=True):
    __tablename__ = "division_exits"

    event_id: str = Field(primary_key=True)
    division_code: str = Field(index=True)
    level: str
    exited_on: dt.date
    at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Payment(SQLModel, table=True):
    """A finance payment; `paid_on` is the CST date of `paid_at`, `reversed_on` the date of the reversal event."""

    __tablename__ = "payments"

    payment_id: str = Field(primary_key=True)
    reference: str
    program: str
    payee: str
    amount: Decimal = numeric(16, 2)
    county_code: str = Field(index=True)
    village_code: str | None = None
    paid_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    paid_on: dt.date | None = None
    reversed_on: dt.date | None = None
