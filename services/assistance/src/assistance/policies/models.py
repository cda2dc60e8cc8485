"""Policy per year: the table and the API shapes."""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from assistance.policies.rules import Weights, weights_sum_to_one
from fupin_kit.money import decimal, numeric
from fupin_kit.policies import YearPolicyRow

Share = Annotated[Decimal, decimal(places=4, ge=0, le=1, max_digits=5, shown="fixed", shown_places=2)]
Points = Annotated[Decimal, decimal(places=2, ge=0, le=100, max_digits=5, shown="fixed")]
Rate = Annotated[Decimal, decimal(places=4, ge=0, le=1, max_digits=5, shown="fixed")]


class PolicyRow(YearPolicyRow, table=True):
    __tablename__ = "policies"

    helper_max_households: int
    team_min_members: int
    team_min_days: int
    team_stay_years: int
    weight_households: Decimal = numeric(5, 4)
    weight_villages: Decimal = numeric(5, 4)
    weight_funds: Decimal = numeric(5, 4)
    weight_helper_coverage: Decimal = numeric(5, 4)
    excellent_from: Decimal = numeric(5, 2)
    pass_from: Decimal = numeric(5, 2)
    veto_error_rate: Decimal = numeric(5, 4)


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
