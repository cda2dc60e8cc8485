"""Per-year policy values: the poverty line and the exit incidence threshold (contract §1 defaults when unset)."""

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PField
from sqlalchemy import Column, DateTime, Numeric, func
from sqlmodel import Field, SQLModel

from fupin_kit.money import Money


class Policy(SQLModel, table=True):
    __tablename__ = "policy"

    year: int = Field(primary_key=True)
    poverty_line: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    exit_incidence_threshold: Decimal = Field(sa_column=Column(Numeric(6, 4), nullable=False))
    return_risk_multiplier: Decimal = Field(sa_column=Column(Numeric(6, 2), nullable=False))
    updated_by: str
    # stamped by the database on INSERT (server default): None only until the flush
    updated_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    poverty_line: Money
    exit_incidence_threshold: Decimal = PField(gt=0, lt=1, max_digits=5, decimal_places=4)
    return_risk_multiplier: Decimal = PField(default=Decimal("1.5"), ge=1, le=10, max_digits=4, decimal_places=2)


class PolicyPublic(BaseModel):
    year: int
    poverty_line: Money
    exit_incidence_threshold: str
    return_risk_multiplier: str
    source: str  # "default" (contract table) or "set"
