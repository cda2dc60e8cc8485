"""Annual reviews and exit decisions, each kept with the rule values and inputs it used."""

import datetime as dt
import uuid
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ARRAY, Column, DateTime, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from fupin_kit.money import Money, money_column
from registry.households.schemas import IncomeYear, Indicators


class AnnualReview(SQLModel, table=True):
    __tablename__ = "annual_review"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    household_id: uuid.UUID = Field(sa_column=Column(ForeignKey("household.id"), nullable=False, index=True))
    income_year: int
    annual_income: Decimal = money_column()
    indicators: dict[str, bool] = Field(sa_column=Column(JSONB, nullable=False))
    reviewed_by: str
    # stamped by the database on INSERT (server default): None only until the flush
    reviewed_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class ExitDecision(SQLModel, table=True):
    """A household exit decision (certified or refused) with everything needed to explain it years later."""

    __tablename__ = "exit_decision"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    household_id: uuid.UUID = Field(sa_column=Column(ForeignKey("household.id"), nullable=False, index=True))
    certified: bool
    unmet: list[str] = Field(sa_column=Column(ARRAY(String), nullable=False))
    income_year: int
    annual_income: Decimal = money_column()
    member_count: int
    per_capita_income: Decimal = money_column()
    poverty_line: Decimal = money_column()
    policy_source: str
    indicators: dict[str, bool] = Field(sa_column=Column(JSONB, nullable=False))
    status_before: str
    decided_by: str
    decided_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class AnnualReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    income_year: IncomeYear
    annual_income: Money
    indicators: Indicators


class AnnualReviewPublic(BaseModel):
    review_id: uuid.UUID
    household_id: uuid.UUID
    income_year: int
    annual_income: Money
    per_capita_income: Money
    indicators: Indicators
    reviewed_at: dt.datetime


class ExitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExitDecisionPublic(BaseModel):
    decision_id: uuid.UUID
    certified: bool
    unmet: list[str]
    income_year: int
    annual_income: Money
    member_count: int
    per_capita_income: Money
    poverty_line: Money
    policy_source: str
    indicators: Indicators
    decided_at: dt.datetime
