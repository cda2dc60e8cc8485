"""Grant amounts per academic year; a year without a row uses the contract's defaults."""

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Numeric, func
from sqlmodel import Field, SQLModel

from fupin_kit.money import Money


def _amount_column() -> Column[Decimal]:
    return Column(Numeric(14, 2), nullable=False)


class GrantPolicyRecord(SQLModel, table=True):
    __tablename__ = "grant_policy"

    academic_year: str = Field(primary_key=True, max_length=9)
    preschool: Decimal = Field(sa_column=_amount_column())
    boarding_primary: Decimal = Field(sa_column=_amount_column())
    boarding_junior: Decimal = Field(sa_column=_amount_column())
    senior: Decimal = Field(sa_column=_amount_column())
    secondary_vocational: Decimal = Field(sa_column=_amount_column())
    vocational_once: Decimal = Field(sa_column=_amount_column())
    updated_by: str = Field(max_length=100)
    updated_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), server_default=func.now(),
                                                     onupdate=func.now(), nullable=False))


class PolicyAmounts(BaseModel):
    """Body of PUT /education/policies/{academic_year}: every amount, in yuan."""

    preschool: Money
    boarding_primary: Money
    boarding_junior: Money
    senior: Money
    secondary_vocational: Money
    vocational_once: Money


class PolicyPublic(PolicyAmounts):
    academic_year: str
    is_default: bool
