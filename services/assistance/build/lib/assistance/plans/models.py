"""Household plans (因户施策): one row per measure."""

import datetime as dt

from sqlalchemy import Column, DateTime, func
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)


class Measure(SQLModel, table=True):
    __tablename__ = "measures"

    measure_id: str = Field(primary_key=True)
    household_id: str = Field(index=True)
    village_code: str
    county_code: str
    line: str
    cause: str
    description: str
    planned_year: int
    reference_kind: str | None = None  # grant | loan
    reference_id: str | None = None
    status: str = "planned"  # planned | in_progress | done
    started_on: dt.date | None = None
    completed_on: dt.date | None = None
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))
