"""Product policy per year: the table, the API shapes and the percentage type."""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from fupin_kit.money import Money, decimal, money_column, numeric, render_decimal
from fupin_kit.policies import YearPolicyRow


def format_percent(rate: Decimal) -> str:
    """A rate or share as text: at least two places ("4.35", "6.00"), more only when they carry digits ("3.915")."""
    return render_decimal(rate, "min2", 4)


Percent = Annotated[Decimal, decimal(places=4, ge=0, le=100, shown="min2",
                                     invalid="must be a percentage a year such as 4.35",
                                     out_of_range="must be between 0 and 100")]
Ratio = Annotated[Decimal, decimal(places=4, ge=0, le=1, shown="min2")]


class ProductPolicyRow(YearPolicyRow, table=True):
    __tablename__ = "product_policies"

    household_cap: Decimal = money_column()
    max_term_months: int
    min_age: int
    max_age: int
    benchmark_rate: Decimal = numeric(7, 4)
    compensation_ratio: Decimal = numeric(5, 4)


class PolicyIn(BaseModel):
    """PUT body: every term of the year's product (rates in percent a year, the ratio as a share)."""

    household_cap: Annotated[Money, Field(gt=0)]
    max_term_months: int = Field(ge=1, le=600)
    min_age: int = Field(ge=0, le=150)
    max_age: int = Field(ge=0, le=150)
    benchmark_rate: Percent
    compensation_ratio: Ratio

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
    compensation_ratio: Ratio
    is_default: bool
