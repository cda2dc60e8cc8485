"""Budgets per jurisdiction and year, and the per-year policy values of the compliance report."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import Column, DateTime, func
from sqlmodel import Field, SQLModel

from fupin_kit.money import Money, decimal, money_column, numeric
from fupin_kit.text import NoNul


class JurisdictionYear(SQLModel, table=True):
    __tablename__ = "jurisdiction_years"

    jurisdiction_code: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    general_budget_revenue: Decimal = money_column()
    special_fund_budget: Decimal = money_column()
    recorded_by: str
    note: str | None = None
    updated_at: dt.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False))


class BudgetPolicy(SQLModel, table=True):
    """Seed §五(十五) policy values for one year; a year without a row uses the contract's defaults (the kit's
    year-policy store; `recorded_by` is its actor column)."""
    __tablename__ = "budget_policies"

    year: int = Field(primary_key=True)
    floor_ratio: Decimal = numeric(6, 4)
    min_growth_rate: Decimal = numeric(6, 4)
    # Maker-checker: an allocation from a fund of this year above this amount waits for a second client (None: never).
    allocation_approval_threshold: Decimal | None = money_column(nullable=True)
    # A loosening threshold change waits here for a second client (issue 12); `pending_threshold_by` None: none.
    pending_threshold: Decimal | None = money_column(nullable=True)
    pending_threshold_by: str | None = None
    recorded_by: str
    updated_at: dt.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False))


# A policy ratio as the contract writes it: at least two places ("0.02", "0.10", "0.025"); at most four on input.
Ratio = Annotated[Decimal, decimal(places=4, ge=0, le=1, max_digits=5, shown="min2")]


class JurisdictionYearIn(BaseModel):
    general_budget_revenue: Money
    special_fund_budget: Money
    note: Annotated[str | None, PydanticField(max_length=500), NoNul] = None


class JurisdictionYearPublic(BaseModel):
    jurisdiction_code: str
    year: int
    general_budget_revenue: Money
    special_fund_budget: Money
    recorded_by: str
    note: str | None


class BudgetPolicyIn(BaseModel):
    floor_ratio: Ratio
    min_growth_rate: Ratio
    allocation_approval_threshold: Money | None = None


class PendingThresholdChange(BaseModel):
    allocation_approval_threshold: Money | None
    requested_by: str


class BudgetPolicyPublic(BaseModel):
    year: int
    floor_ratio: Ratio
    min_growth_rate: Ratio
    allocation_approval_threshold: Money | None = None
    pending_threshold_change: PendingThresholdChange | None = None
    default: bool
    is_default: bool  # the answer shape of every year policy (issue 13); `default` kept for existing readers


class ThresholdDecision(BaseModel):
    approved: bool


class ComplianceReport(BaseModel):
    jurisdiction_code: str
    year: int
    general_budget_revenue: Money
    floor_ratio: str
    floor_amount: Money
    special_fund_budget: Money
    meets_floor: bool
    previous_special_fund_budget: Money | None
    growth_rate: str | None
    min_growth_rate: str
    meets_growth: bool | None
