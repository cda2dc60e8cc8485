"""The ledger's tables: accounts, immutable journal entries and lines, lineage lots."""

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Uuid,
    func,
    text,
)
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention first)
from fupin_kit.money import money_column


def _now_column() -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Account(SQLModel, table=True):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("kind IN ('treasury', 'fund', 'program', 'payee')", name="kind"),
        CheckConstraint("(kind IN ('fund', 'program')) = (balance IS NOT NULL)", name="balance_kept_for_assets"),
        CheckConstraint("balance >= 0", name="balance_not_negative"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    code: str = Field(unique=True)
    kind: str
    jurisdiction_code: str | None = Field(default=None, index=True)
    program: str | None = None
    balance: Decimal | None = money_column(nullable=True)
    created_at: dt.datetime | None = Field(default=None, sa_column=_now_column())


class JournalEntry(SQLModel, table=True):
    """One movement of money; append-only (a trigger refuses UPDATE and DELETE)."""
    __tablename__ = "journal_entries"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    kind: str
    reference: str | None = None
    recorded_by: str
    note: str | None = None
    created_at: dt.datetime | None = Field(default=None, sa_column=_now_column())


class JournalLine(SQLModel, table=True):
    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint("debit >= 0 AND credit >= 0 AND (debit > 0) <> (credit > 0)", name="one_side"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    entry_id: int = Field(sa_column=Column(BigInteger, ForeignKey("journal_entries.id"), nullable=False, index=True))
    account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id"), nullable=False, index=True))
    debit: Decimal = money_column(server_default="0")
    credit: Decimal = money_column(server_default="0")


class Lot(SQLModel, table=True):
    """Money held by an account that came from one received fund: the unit of lineage (FIFO)."""
    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= amount AND amount > 0", name="remaining_within_amount"),
        Index("ix_lots_open", "account_id", "id", postgresql_where=text("remaining > 0")),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id"), nullable=False))
    entry_id: int = Field(sa_column=Column(BigInteger, ForeignKey("journal_entries.id"), nullable=False, index=True))
    source_fund_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("funds.id"), nullable=False))
    amount: Decimal = money_column()
    remaining: Decimal = money_column()
