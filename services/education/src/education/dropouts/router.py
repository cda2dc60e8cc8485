"""GET /education/dropout-risks?division_code= (contract §3)."""

from typing import Annotated

from fastapi import APIRouter, Query

from education.access import Reader
from education.dropouts import service
from education.dropouts.service import DropoutRisks
from fupin_kit.clock import Today
from fupin_kit.db import SessionDep

router = APIRouter(prefix="/education/dropout-risks", tags=["dropout risks"])

DivisionCode = Annotated[str, Query(pattern=r"^(\d{6}|\d{9}|\d{12})$",
                                    description="a city, county (6 digits), town (9) or village (12) code")]


@router.get("", response_model=DropoutRisks)
async def dropout_risks(division_code: DivisionCode, session: SessionDep, today: Today,
                        _: Reader) -> DropoutRisks:
    return await service.dropout_risks(session, division_code=division_code, today=today)
