"""Grant amounts per academic year; a year without a row uses the contract's defaults."""

from decimal import Decimal

from pydantic import BaseModel
from sqlmodel import Field

from fupin_kit.money import Money, money_column
from fupin_kit.policies import PolicyStamp


class GrantPolicyRecord(PolicyStamp, table=True):
    __tablename__ = "grant_policy"

    academic_year: str = Field(primary_key=True, max_length=9)
    preschool: Decimal = money_column()
    boarding_primary: Decimal = money_column()
    boarding_junior: Decimal = money_column()
    senior: Decimal = money_column()
    secondary_vocational: Decimal = money_column()
    vocational_once: Decimal = money_column()


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
