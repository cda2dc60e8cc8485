"""Funds (money received, earmarked), the components of integrated funds, and allocations to programmes."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, func
from sqlmodel import Field, SQLModel

from finance.divisions import JURISDICTION_PATTERN
from finance.ledger.rules import Program
from fupin_kit.money import Money, money_column
from fupin_kit.text import NoNul

FundSource = Literal["central", "provincial", "municipal", "county", "lottery"]
AllocationStatus = Literal["allocated", "pending_approval", "rejected"]


def _positive(amount: Decimal) -> Decimal:
    if amount <= 0:
        raise ValueError("must be greater than zero")
    return amount


PositiveMoney = Annotated[Money, AfterValidator(_positive)]
JurisdictionCode = Annotated[str, PydanticField(pattern=JURISDICTION_PATTERN,
                                                description="6-digit city or county division code")]
Year = Annotated[int, PydanticField(ge=2000, le=2100)]
Note = Annotated[str | None, PydanticField(default=None, max_length=500), NoNul]
Purpose = Annotated[str, PydanticField(min_length=1, max_length=200), NoNul]


def _now_column() -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Fund(SQLModel, table=True):
    __tablename__ = "funds"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    jurisdiction_code: str = Field(index=True)
    year: int
    source: str  # central | provincial | municipal | county | lottery | integrated
    purpose: str
    amount: Decimal = money_column()
    account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id"), nullable=False, unique=True))
    recorded_by: str
    note: str | None = None
    created_at: dt.datetime | None = Field(default=None, sa_column=_now_column())


class FundComponent(SQLModel, table=True):
    """An integrated fund took `amount` from `component_fund_id`."""
    __tablename__ = "fund_components"

    integrated_fund_id: uuid.UUID = Field(foreign_key="funds.id", primary_key=True)
    component_fund_id: uuid.UUID = Field(foreign_key="funds.id", primary_key=True)
    amount: Decimal = money_column()


class Allocation(SQLModel, table=True):
    __tablename__ = "allocations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    fund_id: uuid.UUID = Field(foreign_key="funds.id", index=True)
    jurisdiction_code: str
    program: str
    account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id"), nullable=False))
    amount: Decimal = money_column()
    status: str = "allocated"  # allocated | pending_approval | rejected (funds.rules)
    entry_id: int | None = Field(default=None, sa_column=Column(BigInteger, ForeignKey("journal_entries.id")))
    recorded_by: str
    note: str | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    decision_note: str | None = None
    created_at: dt.datetime | None = Field(default=None, sa_column=_now_column())


class FundReceipt(BaseModel):
    jurisdiction_code: JurisdictionCode
    year: Year
    source: FundSource
    purpose: Purpose
    amount: PositiveMoney
    note: Note = None


class IntegrationItem(BaseModel):
    fund_id: uuid.UUID
    amount: PositiveMoney


class IntegrationRequest(BaseModel):
    jurisdiction_code: JurisdictionCode
    year: Year
    items: list[IntegrationItem] = PydanticField(min_length=1, max_length=100)
    purpose: Purpose = "integrated poverty-alleviation fund"
    note: Note = None


class AllocationRequest(BaseModel):
    from_fund_id: uuid.UUID
    program: Program
    amount: PositiveMoney
    note: Note = None


class ApprovalDecision(BaseModel):
    approved: bool
    note: Note = None


class LineagePiece(BaseModel):
    fund_id: uuid.UUID
    amount: Money


class FundPublic(BaseModel):
    fund_id: uuid.UUID
    jurisdiction_code: str
    year: int
    source: str
    purpose: str
    amount: Money
    balance: Money
    account_id: int
    recorded_by: str
    note: str | None
    components: list[LineagePiece] = []
    lineage: list[LineagePiece] = []


class AllocationPublic(BaseModel):
    allocation_id: uuid.UUID
    from_fund_id: uuid.UUID
    jurisdiction_code: str
    program: str
    amount: Money
    status: AllocationStatus
    fund_balance: Money
    account_balance: Money
    entry_id: int | None
    recorded_by: str
    note: str | None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    decision_note: str | None = None
    payments_released: list[uuid.UUID] = []
