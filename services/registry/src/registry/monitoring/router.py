"""`GET /registry/monitoring` (防返贫) and `GET /registry/divisions/{code}/verification-stats`."""

import datetime as dt
import uuid

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from fupin_kit import clock
from fupin_kit.db import SessionDep
from fupin_kit.money import Money
from registry.access import Reader
from registry.monitoring import service

router = APIRouter(prefix="/registry", tags=["monitoring"])


class RiskItem(BaseModel):
    household_id: uuid.UUID
    village_code: str
    income_year: int
    per_capita_income: Money
    monitoring_line: Money
    false_indicators: list[str]
    reasons: list[str]


class Monitoring(BaseModel):
    division_code: str
    as_of: dt.date
    count: int
    items: list[RiskItem]


@router.get("/monitoring", response_model=Monitoring)
async def monitoring(session: SessionDep, _: Reader,
                     division_code: str = Query(min_length=6, max_length=12, pattern=r"^\d+$")) -> Monitoring:
    items = await service.households_at_risk(session, division_code=division_code)
    return Monitoring(division_code=division_code, as_of=clock.today(), count=len(items),
                      items=[RiskItem(**i) for i in items])


class UnitStats(BaseModel):
    division_code: str
    name: str
    level: str
    town_approved: int
    town_refused: int
    approved: int
    refused_at_county_after_town: int
    removed_as_wrongly_identified: int
    error_rate: str | None


class VerificationStats(BaseModel):
    division_code: str
    level: str
    units: list[UnitStats]


@router.get("/divisions/{code}/verification-stats", response_model=VerificationStats)
async def verification_stats(session: SessionDep, _: Reader,
                             code: str = Path(min_length=6, max_length=12, pattern=r"^\d+$")) -> VerificationStats:
    division, units = await service.verification_stats(session, code=code)
    return VerificationStats(division_code=division.code, level=division.level,
                             units=[UnitStats(**u) for u in units])
