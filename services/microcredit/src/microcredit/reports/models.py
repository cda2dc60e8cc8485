"""The portfolio report's shapes."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, PlainSerializer

from fupin_kit.money import Money

Rate4 = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.4f}", return_type=str)]


class PortfolioFigures(BaseModel):
    loans_granted: int = 0
    amount_granted: Money = Decimal("0.00")
    outstanding_principal: Money = Decimal("0.00")
    overdue_loans: int = 0
    overdue_principal: Money = Decimal("0.00")
    defaulted_loans: int = 0
    defaulted_principal: Money = Decimal("0.00")
    compensation: Money = Decimal("0.00")
    borrowing_households: int = 0
    registered_poor_households: int = 0
    loan_uptake_rate: Rate4 = Decimal("0")


class CountyFigures(PortfolioFigures):
    county_code: str


class BankFigures(PortfolioFigures):
    bank_code: str


class PortfolioReport(BaseModel):
    """获贷率 (`loan_uptake_rate`) = registered-poor households that borrowed / registered-poor households."""

    year: int | None
    as_of: dt.date
    counties: list[CountyFigures]
    banks: list[BankFigures]
    total: PortfolioFigures
