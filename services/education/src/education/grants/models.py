"""Grants awarded to students of registered-poor households, paid by finance (status `awarded` → `paid`)."""

import datetime as dt
import uuid
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import CheckConstraint, Column, DateTime, Index, func, text
from sqlmodel import Field, SQLModel

from fupin_kit.money import Money, money_column

AWARDED = "awarded"
PAID = "paid"


class Grant(SQLModel, table=True):
    __tablename__ = "grant"
    __table_args__ = (
        # One grant per person, kind and academic year; the one-time vocational grant once per person, ever.
        Index("uq_grant_person_kind_year", "person_ref", "kind", "academic_year", unique=True),
        Index("uq_grant_vocational_once", "person_ref", unique=True,
              postgresql_where=text("kind = 'vocational_once'")),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('awarded', 'paid')", name="status_known"),
    )

    grant_id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    enrollment_id: uuid.UUID = Field(foreign_key="enrollment.enrollment_id", index=True)
    person_ref: str = Field(max_length=64)
    household_id: uuid.UUID
    county_code: str = Field(max_length=6)
    village_code: str = Field(max_length=12)
    kind: str = Field(max_length=30)
    amount: Decimal = money_column()
    academic_year: str = Field(max_length=9, index=True)
    status: str = Field(default=AWARDED, max_length=10)
    awarded_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), server_default=func.now(),
                                                     nullable=False))
    payment_id: str | None = Field(default=None, max_length=64)
    paid_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class GrantPublic(BaseModel):
    grant_id: uuid.UUID
    kind: str
    amount: Money
    academic_year: str
    status: str


class GrantLookup(BaseModel):
    """Body of POST /education/grant-lookups."""

    id_number: str


class GrantLookupResult(BaseModel):
    masked_id_number: str
    grants: list[GrantPublic]
