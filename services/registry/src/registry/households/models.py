"""Households (建档立卡户), their members and the history of status changes."""

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ARRAY, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from fupin_kit.money import money_column


class Status(StrEnum):
    identified = "identified"
    town_verified = "town_verified"
    registered = "registered"
    rejected = "rejected"
    exited = "exited"
    returned = "returned"
    removed = "removed"


# Statuses every other service treats as "registered poor" (contract §1, seed §一(二) 继续享受扶持政策).
REGISTERED_POOR = frozenset({Status.registered, Status.exited, Status.returned})
# Memberships of these households no longer count: the person may be registered again.
CLOSED = frozenset({Status.rejected, Status.removed})
# Members of these households are poor persons for the poverty incidence.
POOR_FOR_INCIDENCE = frozenset({Status.registered, Status.returned})


class Household(SQLModel, table=True):
    __tablename__ = "household"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    village_code: str = Field(sa_column=Column(String(12), ForeignKey("division.code"), nullable=False, index=True))
    town_code: str = Field(sa_column=Column(String(9), nullable=False, index=True))
    county_code: str = Field(sa_column=Column(String(6), nullable=False, index=True))
    status: Status = Field(sa_column=Column(String(16), nullable=False, index=True))
    annual_income: Decimal = money_column()
    income_year: int
    causes: list[str] = Field(sa_column=Column(ARRAY(String), nullable=False))
    indicators: dict[str, bool] = Field(sa_column=Column(JSONB, nullable=False))
    low_income_guarantee: bool = False
    import_id: uuid.UUID | None = Field(default=None, index=True)
    # Counts the household events published (HouseholdSnapshot.sequence): consumers keep the highest.
    event_sequence: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    # stamped by the database on INSERT (server default): None only until the flush
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))
    updated_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class Member(SQLModel, table=True):
    """A person in a household. The plain ID number is never stored: `person_ref` (keyed HMAC) finds the person,
    `masked_id_number` and `birth_date` answer everything else the registry is asked."""

    __tablename__ = "member"
    __table_args__ = (
        # One person, one live household: enforced by the database, not only by a check (races included).
        Index("uq_member_active_person_ref", "person_ref", unique=True, postgresql_where=text("active")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    household_id: uuid.UUID = Field(sa_column=Column(ForeignKey("household.id"), nullable=False, index=True))
    position: int
    person_ref: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    masked_id_number: str = Field(max_length=18)
    birth_date: dt.date
    name: str
    relation: str = Field(max_length=16)
    health: str = Field(max_length=16)
    disability_grade: int | None = None
    labor: str = Field(max_length=16)
    school_stage: str | None = Field(default=None, max_length=24)
    boarding: bool = False
    active: bool = Field(sa_column=Column(Boolean, nullable=False, server_default=text("true")))


class StatusChange(SQLModel, table=True):
    """Who moved a household from one status to another, when and why."""

    __tablename__ = "status_change"

    id: int | None = Field(default=None, primary_key=True)
    household_id: uuid.UUID = Field(sa_column=Column(ForeignKey("household.id"), nullable=False, index=True))
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    action: str = Field(max_length=32)
    actor: str
    officer: str | None = None
    reason: str | None = None
    at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


def indicator_dict(value: Any) -> dict[str, bool]:
    return {str(k): bool(v) for k, v in dict(value).items()}
