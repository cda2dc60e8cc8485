"""The welfare policy of a year: the table and the API shapes."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Column, DateTime, Numeric, func
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.money import Money
from welfare.policies.rules import Supplements, WelfarePolicy

Share = Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4)]


class WelfarePolicyRow(SQLModel, table=True):
    __tablename__ = "welfare_policies"

    year: int = SQLField(primary_key=True)
    poverty_line: Decimal = SQLField(sa_column=Column(Numeric(14, 2), nullable=False))
    minimum_living_standard: Decimal = SQLField(sa_column=Column(Numeric(14, 2), nullable=False))
    supplement_elderly: Decimal = SQLField(sa_column=Column(Numeric(5, 4), nullable=False))
    supplement_minor: Decimal = SQLField(sa_column=Column(Numeric(5, 4), nullable=False))
    supplement_severe_disability: Decimal = SQLField(sa_column=Column(Numeric(5, 4), nullable=False))
    gradual_exit_months: int
    gradual_exit_months_disabled: int
    temporary_assistance_cap: Decimal = SQLField(sa_column=Column(Numeric(14, 2), nullable=False))
    ranger_allowance: Decimal = SQLField(sa_column=Column(Numeric(14, 2), nullable=False))
    ranger_min_age: int
    ranger_max_age: int
    rangers_per_household: int
    relocation_subsidy: Decimal = SQLField(sa_column=Column(Numeric(14, 2), nullable=False))
    updated_by: str
    updated_at: dt.datetime = SQLField(sa_column=Column(DateTime(timezone=True), server_default=func.now(),
                                                        onupdate=func.now(), nullable=False))

    def to_policy(self) -> WelfarePolicy:
        return WelfarePolicy(
            poverty_line=self.poverty_line, minimum_living_standard=self.minimum_living_standard,
            supplements=Supplements(elderly=self.supplement_elderly, minor=self.supplement_minor,
                                    severe_disability=self.supplement_severe_disability),
            gradual_exit_months=self.gradual_exit_months,
            gradual_exit_months_disabled=self.gradual_exit_months_disabled,
            temporary_assistance_cap=self.temporary_assistance_cap, ranger_allowance=self.ranger_allowance,
            ranger_min_age=self.ranger_min_age, ranger_max_age=self.ranger_max_age,
            rangers_per_household=self.rangers_per_household, relocation_subsidy=self.relocation_subsidy)


class SupplementsIO(BaseModel):
    elderly: Share
    minor: Share
    severe_disability: Share


class PolicyIn(BaseModel):
    """PUT body: every term of the year (amounts in yuan; supplements as shares of the monthly standard)."""

    poverty_line: Annotated[Money, Field(gt=0)]
    minimum_living_standard: Annotated[Money, Field(gt=0)]
    supplements: SupplementsIO
    gradual_exit_months: int = Field(ge=0, le=60)
    gradual_exit_months_disabled: int = Field(ge=0, le=60)
    temporary_assistance_cap: Money
    ranger_allowance: Money
    ranger_min_age: int = Field(ge=0, le=150)
    ranger_max_age: int = Field(ge=0, le=150)
    rangers_per_household: int = Field(ge=0, le=20)
    relocation_subsidy: Money

    @model_validator(mode="after")
    def _ages_in_order(self) -> "PolicyIn":
        if self.ranger_min_age > self.ranger_max_age:
            raise ValueError("ranger_max_age must not be below ranger_min_age")
        return self

    def to_policy(self) -> WelfarePolicy:
        s = self.supplements
        return WelfarePolicy(
            poverty_line=self.poverty_line, minimum_living_standard=self.minimum_living_standard,
            supplements=Supplements(elderly=s.elderly, minor=s.minor, severe_disability=s.severe_disability),
            gradual_exit_months=self.gradual_exit_months,
            gradual_exit_months_disabled=self.gradual_exit_months_disabled,
            temporary_assistance_cap=self.temporary_assistance_cap, ranger_allowance=self.ranger_allowance,
            ranger_min_age=self.ranger_min_age, ranger_max_age=self.ranger_max_age,
            rangers_per_household=self.rangers_per_household, relocation_subsidy=self.relocation_subsidy)


def _share(value: Decimal) -> str:
    two = value.quantize(Decimal("0.01"))
    return f"{two:.2f}" if two == value else f"{value.normalize():f}"


def policy_out(year: int, policy: WelfarePolicy, is_default: bool) -> dict[str, object]:
    money = "{:.2f}".format
    return {
        "year": year, "poverty_line": money(policy.poverty_line),
        "minimum_living_standard": money(policy.minimum_living_standard),
        "supplements": {"elderly": _share(policy.supplements.elderly), "minor": _share(policy.supplements.minor),
                        "severe_disability": _share(policy.supplements.severe_disability)},
        "gradual_exit_months": policy.gradual_exit_months,
        "gradual_exit_months_disabled": policy.gradual_exit_months_disabled,
        "temporary_assistance_cap": money(policy.temporary_assistance_cap),
        "ranger_allowance": money(policy.ranger_allowance), "ranger_min_age": policy.ranger_min_age,
        "ranger_max_age": policy.ranger_max_age, "rangers_per_household": policy.rangers_per_household,
        "relocation_subsidy": money(policy.relocation_subsidy), "is_default": is_default}
