"""The settlement policy of one calendar year; a year without a row uses the contract's defaults."""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel

from fupin_kit.money import decimal
from fupin_kit.policies import YearPolicyRow
from medical.amounts import Amount
from medical.columns import money, rate

# A fraction such as "0.85" for 85%, at most four places; a JSON string out, a string or number in.
Rate = Annotated[Decimal, decimal(places=4, ge=0, le=1, shown="normal",
                                  invalid="must be a decimal fraction between 0 and 1",
                                  json_schema={"type": "string", "examples": ["0.85"]})]


class LevelTermsIn(BaseModel):
    deductible: Amount
    rate: Rate


class LevelsIn(BaseModel):
    township: LevelTermsIn
    county: LevelTermsIn
    city: LevelTermsIn
    province: LevelTermsIn


class PolicyIn(BaseModel):
    """Body of PUT /medical/policies/{year}: every figure of the waterfall for that year."""

    levels: LevelsIn
    basic_annual_cap: Amount
    critical_illness_threshold: Amount
    critical_illness_rate: Rate
    critical_illness_annual_cap: Amount
    assistance_rate: Rate
    assistance_annual_cap: Amount
    self_pay_cap_rate: Rate
    max_admission_total: Amount = Decimal("2000000.00")  # per admission; above it a settlement is 422


class PolicyPublic(PolicyIn):
    year: int
    source: Literal["default", "set"]
    is_default: bool  # the answer shape of every year policy (issue 13); `source` kept for existing readers


class YearPolicy(YearPolicyRow, table=True):
    """One row per calendar year that has been set; the level terms are flattened into columns."""

    __tablename__ = "policies"

    township_deductible: Decimal = money()
    township_rate: Decimal = rate()
    county_deductible: Decimal = money()
    county_rate: Decimal = rate()
    city_deductible: Decimal = money()
    city_rate: Decimal = rate()
    province_deductible: Decimal = money()
    province_rate: Decimal = rate()
    basic_annual_cap: Decimal = money()
    critical_illness_threshold: Decimal = money()
    critical_illness_rate: Decimal = rate()
    critical_illness_annual_cap: Decimal = money()
    assistance_rate: Decimal = rate()
    assistance_annual_cap: Decimal = money()
    self_pay_cap_rate: Decimal = rate()
    max_admission_total: Decimal = money(server_default="2000000.00")
