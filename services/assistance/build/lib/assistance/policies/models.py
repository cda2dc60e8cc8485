"""Policy per year: the table and the API shapes."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer, ValidationInfo, field_validator
from sqlalchemy import Column, DateTime, Numeric, func
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from assistance.policies.rules import Weights, weights_sum_to_one


def _places(places: int) -> PlainSerializer:
    return PlainSerializer(lambda v: f"{v:.{places}f}", return_type=str)


Share = Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4), _places(2)]
Points = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2), _places(2)]
Rate = Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4), _places(4)]


class PolicyRow(SQLModel, table=True):
    __tablename__ = "policies"

    year: int = SQLField(primary_key=True)
    helper_max_households: int
    team_min_members: int
    team_min_days: int
    team_stay_years: int
    weight_households: Decimal = SQLField(sa_column=Column(Numeric(5, 4), nullable=False))
    weight_villages: Decimal = SQLField(sa_column=Column(Numeric(5, 4), nullable=False))
    weight_funds: Decimal = SQLField(sa_column=Column(Numeric(5, 4), nullable=False))
    weight_helper_coverage: Decimal = SQLField(sa_column=Column(Numeric(5, 4), nullable=False))
    excellent_from: Decimal = SQLField(sa_column=Column(Numeric(5, 2), nullable=False))
    pass_from: Decimal = SQLField(sa_column=Column(Numeric(5, 2), nullable=False))
    veto_error_rate: Decimal = SQLField(sa_column=Column(Numeric(5, 4), nullable=False))
    updated_by: str
    updated_at: dt.datetime = SQLField(sa_column=Column(DateTime(timezone=True), server_default=func.now(),
                                                        onupdate=func.now(), nullable=False))


class WeightsIO(BaseModel):
    households: Share
    villages: Share
    funds: Share
    helper_coverage: Share


class PolicyIn(BaseModel):
    helper_max_households: int = Field(ge=1, le=1000)
    team_min_members: int = Field(ge=1, le=100)
    team_min_days: int = Field(ge=0, le=366)
    team_stay_years: int = Field(ge=0, le=30)
    weights: WeightsIO
    excellent_from: Points
    pass_from: Points
    veto_error_rate: Rate

    @field_validator("weights")
    @classmethod
    def _sum_to_one(cls, weights: WeightsIO) -> WeightsIO:
        w = weights
        if not weights_sum_to_one(Weights(w.households, w.villages, w.funds, w.helper_coverage)):
            raise ValueError("the weights must sum to 1")
        return weights

    @field_validator("pass_from")
    @classmethod
    def _pass_below_excellent(cls, pass_from: Decimal, info: ValidationInfo) -> Decimal:
        excellent = info.data.get("excellent_from")
        if excellent is not None and pass_from > excellent:
            raise ValueError("must not be above excellent_from")
        return pass_from


class PolicyOut(PolicyIn):
    year: int
    is_default: bool
