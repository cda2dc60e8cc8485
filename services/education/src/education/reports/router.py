"""GET /education/reports/coverage?academic_year= (issue 6; the current academic year when omitted)."""

from fastapi import APIRouter

from education.academic_years import AcademicYear, academic_year_on
from education.access import Reader
from education.reports import service
from education.reports.service import CoverageReport
from fupin_kit.clock import Today
from fupin_kit.db import SessionDep

router = APIRouter(prefix="/education/reports", tags=["reports"])


@router.get("/coverage", response_model=CoverageReport)
async def coverage(session: SessionDep, today: Today, _: Reader,
                   academic_year: AcademicYear | None = None) -> CoverageReport:
    return await service.coverage(session, academic_year=academic_year or academic_year_on(today))
