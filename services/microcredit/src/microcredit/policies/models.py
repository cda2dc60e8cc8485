"""Product policy per year: the table, the API shapes and the percentage type."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, model_validator
from sqlalchemy import Column, DateTime, Numeric, func
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.money import Money


def _parse_percent(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a percentage a year such as 4.35")
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError("must be a percentage a year such as 4.35") from exc
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise ValueError("must be between 0 and 100")
    if rate != rate.quantize(Decimal("0.0001")):
        raise ValueError("must have at most four decimal places")
    return rate


def format_percent(rate: Decimal) -> str:
    """A rate or share as text: at least two places ("4.35", "6.00"), more only when they carry digits ("3.915")."""
    two = rate.quantize(Decimal("0.01"))
    return f"{two:.2f}" if two == rate else f"{rate.normalize():f}"


Percent = Annotated[Decimal, BeforeValidator(_parse_percent), PlainSerializer(format_percent, return_type=str)]


class ProductPolicyRow(SQLModel, table=True):
    __tablename__ = "product_policies"

    year: int = SQLField(primary_key=True)
    household_cap: Decimal = SQLField(sa_column=Column(Numeric(14, 2), nullable=False))
    max_term_months: int
    min_age: int
    max_age: int
    benchmark_rate: Decimal = SQLField(sa_column=Column(Numeric(7, 4), nullable=False))
    compensation_ratio: Decimal = SQLField(sa_column=Column(Numeric(5, 4), nullable=False))
    updated_by: str
    updated_at: dt.datetime = SQLField(sa_column=Column(DateTime(timezone=True), server_default=func.now(),
                                                        onupdate=func.now(), nullable=False))


class PolicyIn(BaseModel):
    """PUT body: every term of the year's product (rates in percent a year, the ratio as a share)."""

    household_cap: Annotated[Money, Field(gt=0)]
    max_term_months: int = Field(ge=1, le=600)
    min_age: int = Field(ge=0, le=150)
    max_age: int = Field(ge=0, le=150)
    benchmark_rate: Percent
    compensation_ratio: Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]

    @model_validator(mode="after")
    def _ages_in_order(self) -> "PolicyIn":
        if self.min_age > self.max_age:
            raise ValueError("max_age must not be below min_age")
        return self


class PolicyOut(BaseModel):
    year: int
    household_cap: Money
    max_term_months: int
    min_age: int
    max_age: int
    benchmark_rate: Percent
    compensation_ratio: Annotated[Decimal, PlainSerializer(format_percent, return_type=str)]
    is_default: bool
