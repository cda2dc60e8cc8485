"""Loans granted by banks, their repayments, and the API shapes."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import CheckConstraint, Column, Date, DateTime, ForeignKey, func
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.ids import InvalidResidentId, validate_resident_id
from fupin_kit.money import Money, money_column, numeric
from fupin_kit.text import NoNul
from microcredit.policies.models import Percent

LoanStatus = Literal["active", "repaid", "defaulted"]


class Loan(SQLModel, table=True):
    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint("principal_outstanding >= 0 AND principal_outstanding <= amount", name="outstanding_range"),
        CheckConstraint("status IN ('active', 'repaid', 'defaulted')", name="status"),
    )

    loan_id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    bank_code: str = SQLField(index=True)
    person_ref: str = SQLField(index=True)
    household_id: str = SQLField(index=True)
    county_code: str
    village_code: str
    masked_id_number: str
    amount: Decimal = money_column()
    principal_outstanding: Decimal = money_column()
    term_months: int
    annual_rate: Decimal = numeric(7, 4)
    disbursed_on: dt.date = SQLField(sa_column=Column(Date, nullable=False))
    maturity_date: dt.date = SQLField(sa_column=Column(Date, nullable=False))
    purpose: str
    status: str = "active"
    closed_on: dt.date | None = SQLField(default=None, sa_column=Column(Date))
    unpaid_principal: Decimal | None = money_column(nullable=True)
    compensation: Decimal | None = money_column(nullable=True)
    created_at: dt.datetime | None = SQLField(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class Repayment(SQLModel, table=True):
    __tablename__ = "repayments"

    repayment_id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = SQLField(sa_column=Column(ForeignKey("loans.loan_id"), nullable=False, index=True))
    amount: Decimal = money_column()
    paid_on: dt.date = SQLField(sa_column=Column(Date, nullable=False))
    principal_after: Decimal = money_column()
    created_at: dt.datetime | None = SQLField(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class IdNumberIn(BaseModel):
    id_number: str = Field(max_length=32)

    @field_validator("id_number")
    @classmethod
    def _valid(cls, value: str) -> str:
        try:
            return validate_resident_id(value)
        except InvalidResidentId as exc:
            raise ValueError(f"not a valid resident ID number: {exc}") from exc


PositiveMoney = Annotated[Money, Field(gt=0)]


class LoanIn(IdNumberIn):
    amount: PositiveMoney
    term_months: int = Field(ge=1, le=600)
    annual_rate: Annotated[Percent, Field(description="the loan's rate in percent a year, like benchmark_rate: 4.35")]
    disbursed_on: dt.date
    purpose: Annotated[str, NoNul] = Field(min_length=1, max_length=500)


class RepaymentIn(BaseModel):
    amount: PositiveMoney
    paid_on: dt.date


class DefaultIn(BaseModel):
    unpaid_principal: PositiveMoney
    declared_on: dt.date


class RepaymentOut(BaseModel):
    repayment_id: uuid.UUID
    amount: Money
    paid_on: dt.date
    principal_after: Money


class LoanOut(BaseModel):
    """What the bank sees of its loan: no household data beyond the masked ID number."""

    loan_id: uuid.UUID
    status: LoanStatus
    bank_code: str
    masked_id_number: str
    amount: Money
    principal_outstanding: Money
    term_months: int
    annual_rate: Percent
    disbursed_on: dt.date
    maturity_date: dt.date
    purpose: str
    repaid_on: dt.date | None = None
    defaulted_on: dt.date | None = None
    unpaid_principal: Money | None = None
    compensation: Money | None = None
    repayments: list[RepaymentOut] = []
