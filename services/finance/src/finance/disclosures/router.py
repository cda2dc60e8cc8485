"""`GET /finance/disclosures/{division_code}?year=`: public, no token (contract §5)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from finance.disclosures import service
from finance.divisions import DIVISION_PATTERN
from fupin_kit import clock
from fupin_kit.db import SessionDep

router = APIRouter(prefix="/finance/disclosures", tags=["disclosures"])


@router.get("/{division_code}")
async def disclosure(division_code: Annotated[str, Path(pattern=DIVISION_PATTERN)], session: SessionDep,
                     year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> dict[str, Any]:
    """Money paid per programme and per village of a division in a year (default: this year). No personal data."""
    year = year or clock.today().year
    return await service.disclosure(session, division_code=division_code, year=year)
