"""Helpers (帮扶责任人) and their pairings with households."""

import datetime as dt

from sqlalchemy import Column, DateTime, Index, func, text
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)


class Helper(SQLModel, table=True):
    __tablename__ = "helpers"

    helper_id: str = Field(primary_key=True)
    name: str
    unit_id: str | None = Field(default=None, index=True)
    phone: str | None = None
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class Pairing(SQLModel, table=True):
    """One active pairing per household (the partial unique index backs the row locks of the service)."""

    __tablename__ = "pairings"
    __table_args__ = (Index("uq_pairings_active_household", "household_id", unique=True,
                            postgresql_where=text("status = 'active'")),)

    pairing_id: str = Field(primary_key=True)
    helper_id: str = Field(index=True)
    household_id: str = Field(index=True)
    village_code: str = Field(index=True)
    county_code: str
    starts_on: dt.date
    status: str = "active"  # active | ended
    ended_on: dt.date | None = None
    reason: str | None = None
    reason_code: str | None = None  # ended | household_removed
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))
