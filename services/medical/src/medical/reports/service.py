"""Settlement figures per county (of the patient's household) and hospital for one calendar year."""

from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.money import Money, round_fen
from medical.settlements.models import Settlement

LAYERS = ("total_cost", "eligible_cost", "basic_insurance", "critical_illness_insurance", "medical_assistance",
          "supplementary", "patient_pays")


class SettlementFigures(BaseModel):
    county_code: str
    hospital_code: str
    settlements: int
    total_cost: Money
    eligible_cost: Money
    basic_insurance: Money
    critical_illness_insurance: Money
    medical_assistance: Money
    supplementary: Money
    patient_pays: Money
    average_patient_pays: Money
    patient_share: str  # patient_pays / total_cost, 4 places


class SettlementReport(BaseModel):
    year: int
    county_code: str | None
    items: list[SettlementFigures]
    totals: SettlementFigures | None


def _figures(county: str, hospital: str, count: int, sums: dict[str, Decimal]) -> SettlementFigures:
    average = round_fen(sums["patient_pays"] / count) if count else Decimal("0.00")
    share = (sums["patient_pays"] / sums["total_cost"]).quantize(Decimal("0.0001")) if sums["total_cost"] \
        else Decimal("0.0000")
    return SettlementFigures(county_code=county, hospital_code=hospital, settlements=count,
                             average_patient_pays=average, patient_share=f"{share:.4f}", **sums)


async def settlement_report(session: AsyncSession, *, year: int, county_code: str | None) -> SettlementReport:
    """Completed (not reversed) settlements of `year`, grouped by county and hospital."""
    columns: list[Any] = [func.coalesce(func.sum(getattr(Settlement, layer)), 0) for layer in LAYERS]
    statement = (select(Settlement.county_code, Settlement.hospital_code, func.count(), *columns)
                 .where(Settlement.year == year, Settlement.status == "completed")
                 .group_by(Settlement.county_code, Settlement.hospital_code)
                 .order_by(Settlement.county_code, Settlement.hospital_code))
    if county_code is not None:
        statement = statement.where(col(Settlement.county_code) == county_code)
    rows = (await session.exec(statement)).all()
    items = [_figures(row[0], row[1], row[2], dict(zip(LAYERS, row[3:], strict=True))) for row in rows]
    totals = None
    if items:
        sums = {layer: sum((getattr(item, layer) for item in items), Decimal("0.00")) for layer in LAYERS}
        totals = _figures(county_code or "*", "*", sum(item.settlements for item in items), sums)
    return SettlementReport(year=year, county_code=county_code, items=items, totals=totals)
