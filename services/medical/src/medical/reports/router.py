"""GET /medical/reports/settlements?year=&county_code= (medical:read)."""

from typing import Annotated

from fastapi import APIRouter, Query

from fupin_kit.db import SessionDep
from medical.access import MedicalReader
from medical.reports.service import SettlementReport, settlement_report

router = APIRouter(prefix="/medical/reports", tags=["reports"])


@router.get("/settlements")
async def settlements_report(session: SessionDep, _: MedicalReader,
                             year: Annotated[int, Query(ge=2000, le=2100)],
                             county_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
                             ) -> SettlementReport:
    return await settlement_report(session, year=year, county_code=county_code)
