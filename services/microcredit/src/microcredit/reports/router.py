"""GET /microcredit/reports/portfolio (microcredit:read): the government's view of the loan portfolio."""

from typing import Annotated

from fastapi import APIRouter, Query

from fupin_kit.clock import today
from fupin_kit.db import SessionDep
from microcredit.access import MicrocreditReader
from microcredit.reports import service
from microcredit.reports.models import PortfolioReport

router = APIRouter(prefix="/microcredit/reports", tags=["reports"])


@router.get("/portfolio", response_model=PortfolioReport)
async def portfolio(session: SessionDep, _: MicrocreditReader,
                    year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> PortfolioReport:
    return await service.portfolio(session, year=year, as_of=today())
