"""The read model: divisions, the facts events told us (households, loans, settlements, payments) and one tally
per division and metric, kept current by the event handlers so a page view reads a handful of rows."""

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import BigInteger, Column, DateTime, String
from sqlmodel import Field, SQLModel

from fupin_kit.money import numeric


class Division(SQLModel, table=True):
    __tablename__ = "division"

    code: str = Field(primary_key=True, max_length=12)
    name: str | None = Field(default=None, max_length=100)
    level: str = Field(max_length=10)
    parent_code: str | None = Field(default=None, sa_column=Column(String(12), index=True))
    poor: bool = False
    population: int = 0
    exited: bool = False


class Household(SQLModel, table=True):
    """What one household adds to its village, town and county (its tally contribution is derived from this row)."""

    __tablename__ = "household"

    household_id: uuid.UUID = Field(primary_key=True)
    status: str | None = Field(default=None, max_length=20)  # None: only a loan told us of it so far
    village_code: str = Field(max_length=12)
    persons: int = 0
    sequence: int | None = Field(default=None, sa_column=Column(BigInteger))
    occurred_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    exit_year: int | None = None
    has_loan: bool = False


class Loan(SQLModel, table=True):
    __tablename__ = "loan"

    loan_id: str = Field(primary_key=True, max_length=64)
    household_id: uuid.UUID
    village_code: str = Field(max_length=12)
    amount: Decimal = numeric(16, 2)
    defaulted: bool = False


class Settlement(SQLModel, table=True):
    __tablename__ = "settlement"

    settlement_id: str = Field(primary_key=True, max_length=64)
    village_code: str = Field(max_length=12)
    amount: Decimal = numeric(16, 2)
    patient_pays: Decimal | None = numeric(16, 2, nullable=True)
    reversed: bool = False


class Payment(SQLModel, table=True):
    """A payment line (payment id, item) and the status it was last seen in."""

    __tablename__ = "payment"

    payment_key: str = Field(primary_key=True, max_length=200)
    program: str = Field(max_length=40)
    county_code: str = Field(max_length=6)
    village_code: str | None = Field(default=None, max_length=12)
    amount: Decimal = numeric(16, 2)
    status: str = Field(max_length=10)


class Tally(SQLModel, table=True):
    """One figure of one division (village, town or county; a city sums its counties when read)."""

    __tablename__ = "tally"

    division_code: str = Field(primary_key=True, max_length=12)
    metric: str = Field(primary_key=True, max_length=80)
    value: Decimal = numeric(20, 2)


class Progress(SQLModel, table=True):
    """When the newest applied event happened: the figures' `as_of`."""

    __tablename__ = "progress"

    id: int = Field(primary_key=True)
    as_of: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Benefit(SQLModel, table=True):
    """A welfare benefit as the events told of it: `benefit-due` (program, village, amount), `benefit-cancelled`,
    and finance's `payment-completed` for it (paid or reversed: `settled`). Its pending amount is derived from this
    row (`rules.benefit_contribution`); events may come in any order across the three topics."""

    __tablename__ = "benefit"

    benefit_id: str = Field(primary_key=True, max_length=100)
    program: str | None = Field(default=None, max_length=40)
    village_code: str | None = Field(default=None, max_length=12)
    amount: Decimal | None = numeric(16, 2, nullable=True)
    due: bool = False
    cancelled: bool = False
    settled: bool = False
