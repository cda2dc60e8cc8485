"""Responsibility letters (责任书), misuse findings, assessments (考核) with every input, summonses (约谈)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.money import numeric


class Target(SQLModel, table=True):
    __tablename__ = "targets"

    county_code: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    households_to_exit: int
    villages_to_exit: int
    funds_to_spend: Decimal = numeric(16, 2)
    updated_by: str
    updated_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False))


class MisuseFinding(SQLModel, table=True):
    __tablename__ = "misuse_findings"

    finding_id: str = Field(primary_key=True)
    county_code: str = Field(index=True)
    year: int
    found_on: dt.date
    amount: Decimal = numeric(16, 2)
    reference: str | None = None
    note: str | None = None
    recorded_by: str
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class Assessment(SQLModel, table=True):
    """One computation, kept with every input it used (targets, actuals and their counts, the policy)."""

    __tablename__ = "assessments"

    assessment_id: str = Field(primary_key=True)
    county_code: str = Field(index=True)
    year: int
    final: bool
    reference_date: dt.date
    assessed_on: dt.date
    targets: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    actuals: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    ratios: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    policy: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    score: Decimal = numeric(5, 2)
    vetoes: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    reasons: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    verdict: str
    summons_id: str | None = None
    assessed_by: str
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class Summons(SQLModel, table=True):
    """At most one per county and year: later final fails point to it."""

    __tablename__ = "summonses"
    __table_args__ = (UniqueConstraint("county_code", "year"),)

    summons_id: str = Field(primary_key=True)
    county_code: str = Field(index=True)
    year: int
    assessment_id: str
    reasons: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    status: str = "open"  # open | held
    held_on: dt.date | None = None
    note: str | None = None
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))
