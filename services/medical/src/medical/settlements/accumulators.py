"""Per person and calendar year totals, always changed under a row lock."""

import datetime as dt

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from medical.settlements.models import YearAccumulator
from medical.settlements.rules import Accumulators


async def lock_year(session: AsyncSession, *, person_ref: str, year: int) -> YearAccumulator:
    """The person's row for `year`, created at zero if missing, locked FOR UPDATE until the transaction ends."""
    await session.exec(insert(YearAccumulator).values(
        person_ref=person_ref, year=year).on_conflict_do_nothing())
    return (await session.exec(
        select(YearAccumulator).where(YearAccumulator.person_ref == person_ref, YearAccumulator.year == year)
        .with_for_update().execution_options(populate_existing=True))).one()


def year_to_date(row: YearAccumulator) -> Accumulators:
    return Accumulators(basic_insurance=row.basic_insurance, critical_illness_base=row.critical_illness_base,
                        critical_illness_insurance=row.critical_illness_insurance,
                        medical_assistance=row.medical_assistance)


def store(row: YearAccumulator, totals: Accumulators) -> None:
    row.basic_insurance = totals.basic_insurance
    row.critical_illness_base = totals.critical_illness_base
    row.critical_illness_insurance = totals.critical_illness_insurance
    row.medical_assistance = totals.medical_assistance
    row.updated_at = dt.datetime.now(dt.UTC)
