"""The welfare policy of a year: the table and the API shapes."""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from fupin_kit.money import Money, decimal, format_money, money_column, numeric, render_decimal
from fupin_kit.policies import YearPolicyRow
from welfare.policies.rules import Supplements, WelfarePolicy

Share = Annotated[Decimal, decimal(places=4, ge=0, le=1, max_digits=5, shown="min2")]


class WelfarePolicyRow(YearPolicyRow, table=True):
    __tablename__ = "welfare_policies"

    poverty_line: Decimal = money_column()
    minimum_living_standard: Decimal = money_column()
    supplement_elderly: Decimal = numeric(5, 4)
    supplement_minor: Decimal = numeric(5, 4)
    supplement_severe_disability: Decimal = numeric(5, 4)
    gradual_exit_months: int
    gradual_exit_months_disabled: int
    temporary_assistance_cap: Decimal = money_column()
    ranger_allowance: Decimal = money_column()
    ranger_min_age: int
    ranger_max_age: int
    rangers_per_household: int
    relocation_subsidy: Decimal = money_column()

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


def row_values(policy: WelfarePolicy) -> dict[str, object]:
    """The table's columns of a policy (the supplements flattened)."""
    s = policy.supplements
    return {
        "poverty_line": policy.poverty_line, "minimum_living_standard": policy.minimum_living_standard,
        "supplement_elderly": s.elderly, "supplement_minor": s.minor,
        "supplement_severe_disability": s.severe_disability,
        "gradual_exit_months": policy.gradual_exit_months,
        "gradual_exit_months_disabled": policy.gradual_exit_months_disabled,
        "temporary_assistance_cap": policy.temporary_assistance_cap, "ranger_allowance": policy.ranger_allowance,
        "ranger_min_age": policy.ranger_min_age, "ranger_max_age": policy.ranger_max_age,
        "rangers_per_household": policy.rangers_per_household, "relocation_subsidy": policy.relocation_subsidy}


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
    return render_decimal(value, "min2", 4)


def policy_out(year: int, policy: WelfarePolicy, is_default: bool) -> dict[str, object]:
    money = format_money
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
