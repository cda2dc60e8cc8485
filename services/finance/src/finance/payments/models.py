"""Payments ordered by events, and settlement reversals that may arrive before their settlement."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    UniqueConstraint,
    func,
    text,
)
from sqlmodel import Field, SQLModel

from fupin_kit.money import Money, money_column, numeric

PaymentStatus = Literal["paid", "pending_funds", "reversed"]


class Payment(SQLModel, table=True):
    """One payment from a county programme account; exactly one per (reference, program, item)."""
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("reference", "program", "item_reference", name="uq_payments_business_reference"),
        CheckConstraint("status IN ('paid', 'pending_funds', 'reversed')", name="status"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index("ix_payments_pending", "account_id", "seq", postgresql_where=text("status = 'pending_funds'")),
        Index("ix_payments_barrier", "account_id", "barrier_at", postgresql_where=text("status = 'pending_funds'")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False, unique=True))
    reference: str  # looked up through uq_payments_business_reference (its leading column)
    item_reference: str = ""  # the loan of an interest-subsidy claim item; empty otherwise
    program: str
    county_code: str
    village_code: str | None = None
    payee: str
    amount: Decimal = money_column()
    status: str
    account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id"), nullable=False))
    payee_account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id"), nullable=False))
    entry_id: int | None = Field(default=None, sa_column=Column(BigInteger, ForeignKey("journal_entries.id")))
    reversal_entry_id: int | None = Field(default=None,
                                          sa_column=Column(BigInteger, ForeignKey("journal_entries.id")))
    event_id: str
    created_at: dt.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False))
    paid_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reversed_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # while waiting: the account's paid_out at which this payment stops being overtaken (rules.plan_payments)
    barrier_at: Decimal | None = numeric(20, 2, nullable=True)


class PaymentQueue(SQLModel, table=True):
    """Per programme account: how much it has paid out in total (monotonic), the clock of `Payment.barrier_at`."""
    __tablename__ = "payment_queues"

    account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id"), primary_key=True))
    paid_out: Decimal = numeric(20, 2, default=Decimal("0"), server_default="0")


class SettlementReversal(SQLModel, table=True):
    """A `settlement-reversed` event; kept so a settlement that arrives after its reversal is never paid."""
    __tablename__ = "settlement_reversals"

    settlement_id: str = Field(primary_key=True)
    reason_code: str | None = None
    event_id: str
    received_at: dt.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False))


class BenefitCancellation(SQLModel, table=True):
    """A `benefit-cancelled` event; kept so a benefit whose `benefit-due` comes after its cancellation (the two
    travel on different topics) is recorded as reversed and never paid."""
    __tablename__ = "benefit_cancellations"

    benefit_id: str = Field(primary_key=True)
    reason_code: str | None = None
    event_id: str
    received_at: dt.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False))


class PaymentPublic(BaseModel):
    payment_id: uuid.UUID
    reference: str
    item_reference: str | None
    program: str
    payee: str
    amount: Money
    status: str
    county_code: str
    village_code: str | None
    created_at: dt.datetime | None
    paid_at: dt.datetime | None
    reversed_at: dt.datetime | None


class LineageSource(BaseModel):
    fund_id: uuid.UUID
    source: str
    purpose: str
    jurisdiction_code: str
    year: int
    amount: Money


class PaymentLineage(BaseModel):
    payment_id: uuid.UUID
    reference: str
    program: str
    amount: Money
    status: str
    sources: list[LineageSource]
