"""Portfolio figures per county and per bank from the loans and the household read model.

With a year, only loans disbursed that year count (granted, outstanding, overdue, defaulted, borrowers); without,
every loan. Registered-poor households are those of the read model in status registered, exited or returned now;
a borrowing household counts only while it is registered poor. Overdue: active past its maturity date (as_of).
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, distinct, func, literal, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from microcredit.households.models import Household
from microcredit.loans.models import Loan
from microcredit.reports.models import BankFigures, CountyFigures, PortfolioFigures, PortfolioReport
from microcredit.rules import ELIGIBLE_STATUSES, ZERO

RATE_PLACES = Decimal("0.0001")


def _amount(column: Any, where: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(column).filter(where), ZERO)


async def _loan_figures(session: AsyncSession, group_by: Any, *, year: int | None,
                        as_of: dt.date) -> Sequence[Row[Any]]:
    """One row of figures per value of `group_by` (its value in column `key`); Core rows, hence the connection."""
    active = col(Loan.status) == "active"
    overdue = and_(active, col(Loan.maturity_date) < as_of)
    defaulted = col(Loan.status) == "defaulted"
    registered_poor = col(Household.status).in_(ELIGIBLE_STATUSES)
    query = (
        select(group_by.label("key"),
               func.count().label("loans_granted"),
               func.sum(Loan.amount).label("amount_granted"),
               _amount(Loan.principal_outstanding, active).label("outstanding_principal"),
               func.count().filter(overdue).label("overdue_loans"),
               _amount(Loan.principal_outstanding, overdue).label("overdue_principal"),
               func.count().filter(defaulted).label("defaulted_loans"),
               _amount(Loan.unpaid_principal, defaulted).label("defaulted_principal"),
               _amount(Loan.compensation, defaulted).label("compensation"),
               func.count(distinct(case((registered_poor, Loan.household_id)))).label("borrowing_households"))
        .select_from(Loan).outerjoin(Household, col(Household.household_id) == col(Loan.household_id))
        .group_by(group_by))
    if year is not None:
        query = query.where(col(Loan.disbursed_on) >= dt.date(year, 1, 1),
                            col(Loan.disbursed_on) < dt.date(year + 1, 1, 1))
    return (await (await session.connection()).execute(query)).all()


async def _registered_poor_by_county(session: AsyncSession) -> dict[str, int]:
    query = (select(col(Household.county_code), func.count()).where(col(Household.status).in_(ELIGIBLE_STATUSES))
             .group_by(col(Household.county_code)))
    rows = (await (await session.connection()).execute(query)).all()
    return {county: count for county, count in rows}


def _figures(row: Row[Any] | None, registered_poor: int) -> dict[str, Any]:
    values: Mapping[str, Any] = dict(row._mapping) if row is not None else {}
    figures = {name: value for name, value in values.items() if name != "key"}
    borrowing = int(figures.get("borrowing_households", 0))
    uptake = (Decimal(borrowing) / registered_poor).quantize(RATE_PLACES) if registered_poor else Decimal("0.0000")
    return {**figures, "registered_poor_households": registered_poor, "loan_uptake_rate": uptake}


async def portfolio(session: AsyncSession, *, year: int | None, as_of: dt.date) -> PortfolioReport:
    poor_by_county = await _registered_poor_by_county(session)
    all_poor = sum(poor_by_county.values())
    by_county = {row.key: row for row in await _loan_figures(session, col(Loan.county_code), year=year, as_of=as_of)}
    by_bank = await _loan_figures(session, col(Loan.bank_code), year=year, as_of=as_of)
    overall = await _loan_figures(session, literal("all"), year=year, as_of=as_of)
    counties = [CountyFigures(county_code=code, **_figures(by_county.get(code), poor_by_county.get(code, 0)))
                for code in sorted(set(poor_by_county) | set(by_county))]
    banks = [BankFigures(bank_code=row.key, **_figures(row, all_poor)) for row in sorted(by_bank, key=lambda r: r.key)]
    return PortfolioReport(year=year, as_of=as_of, counties=counties, banks=banks,
                           total=PortfolioFigures(**_figures(overall[0] if overall else None, all_poor)))
