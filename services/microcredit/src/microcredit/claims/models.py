"""Quarterly interest-subsidy claims and their items; one subsidised item per loan and period (DB-enforced)."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, func, text
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.money import Money, money_column
from fupin_kit.text import NoNul
from microcredit.rules import PERIOD_PATTERN, quarter_bounds


class InterestClaim(SQLModel, table=True):
    __tablename__ = "interest_claims"

    claim_id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    bank_code: str = SQLField(index=True)
    period: str
    subsidy_total: Decimal = money_column()
    created_at: dt.datetime | None = SQLField(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class InterestClaimItem(SQLModel, table=True):
    """`loan_id` is the caller's text (it may name no loan); `reason` is NULL for an accepted item."""

    __tablename__ = "interest_claim_items"
    __table_args__ = (Index("uq_interest_claim_items_loan_period", "loan_id", "period", unique=True,
                            postgresql_where=text("reason IS NULL")),)

    id: int | None = SQLField(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    claim_id: uuid.UUID = SQLField(sa_column=Column(ForeignKey("interest_claims.claim_id"), nullable=False,
                                                    index=True))
    position: int
    loan_id: str
    period: str
    claimed: Decimal = money_column()
    subsidy: Decimal = money_column()
    days_active: int = 0
    reason: str | None = None


class ClaimItemIn(BaseModel):
    loan_id: Annotated[str, NoNul] = Field(min_length=1, max_length=64)
    interest: Money


class InterestClaimIn(BaseModel):
    period: str = Field(pattern=PERIOD_PATTERN.pattern, examples=["2020Q1"])
    items: list[ClaimItemIn] = Field(min_length=1, max_length=1000)

    @field_validator("period")
    @classmethod
    def _a_calendar_quarter(cls, value: str) -> str:
        quarter_bounds(value)  # "0000Q1" matches the pattern but is no date: a 422 on `period`, not a 500
        return value


class ClaimItemOut(BaseModel):
    loan_id: str
    claimed: Money
    subsidy: Money
    days_active: int
    reason: str | None


class InterestClaimOut(BaseModel):
    claim_id: uuid.UUID
    bank_code: str
    period: str
    subsidy_total: Money
    items: list[ClaimItemOut]
