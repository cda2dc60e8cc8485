"""Benefits (one payment each, paid by finance) and monthly runs."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.money import money_column

KINDS = ("minimum_living", "temporary_assistance", "eco_ranger", "relocation")
PROGRAM_OF_KIND = {"minimum_living": "minimum_living", "temporary_assistance": "temporary_assistance",
                   "eco_ranger": "eco_rangers", "relocation": "relocation"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Benefit(SQLModel, table=True):
    """`case_id` is the 低保 case, ranger post or relocation (None for temporary assistance); `month` is None for
    one-off payments. One benefit per case and month: the unique index `uq_benefits_case_month`."""

    __tablename__ = "benefits"
    # a quarter of each page free: marking a benefit paid is a HOT update (migration 0004)
    __table_args__ = {"postgresql_with": {"fillfactor": 75}}

    benefit_id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str
    case_id: uuid.UUID | None = Field(default=None, index=True)
    household_id: str = Field(index=True)
    county_code: str
    village_code: str
    month: str | None = None
    amount: Decimal = money_column()
    breakdown: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    status: str = "due"
    cause: str | None = None
    decided_on: dt.date | None = None
    run_id: uuid.UUID | None = None
    paid_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    payment_id: str | None = None
    cancelled_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: dt.datetime = Field(
        default_factory=now, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False))


class Run(SQLModel, table=True):
    __tablename__ = "runs"

    run_id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    month: str = Field(index=True)
    created_minimum_living: int
    created_eco_ranger: int
    already_existing: int
    total_amount: Decimal = money_column()
    created_by: str
    created_at: dt.datetime = Field(
        default_factory=now, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False))


def benefit_out(b: Benefit) -> dict[str, Any]:
    return {"benefit_id": str(b.benefit_id), "kind": b.kind, "case_id": str(b.case_id) if b.case_id else None,
            "household_id": b.household_id, "county_code": b.county_code, "village_code": b.village_code,
            "month": b.month, "amount": f"{b.amount:.2f}", "breakdown": b.breakdown, "status": b.status,
            "cause": b.cause, "decided_on": b.decided_on.isoformat() if b.decided_on else None,
            "run_id": str(b.run_id) if b.run_id else None,
            "paid_at": b.paid_at.isoformat() if b.paid_at else None}


def run_out(r: Run) -> dict[str, Any]:
    return {"run_id": str(r.run_id), "month": r.month,
            "created": {"minimum_living": r.created_minimum_living, "eco_ranger": r.created_eco_ranger},
            "already_existing": r.already_existing, "total_amount": f"{r.total_amount:.2f}",
            "created_at": r.created_at.isoformat() if r.created_at else None}
