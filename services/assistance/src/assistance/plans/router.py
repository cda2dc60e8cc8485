"""Household plans (因户施策), contract §7."""

from fastapi import APIRouter, status

from assistance.access import Reader, Writer
from assistance.plans import service
from assistance.plans.schemas import MeasureIn, MeasureOut, PlanOut, ProgressIn
from fupin_kit.db import SessionDep

router = APIRouter(prefix="/assistance", tags=["household plans"])


@router.post("/households/{household_id}/measures", status_code=status.HTTP_201_CREATED, response_model=MeasureOut)
async def add_measure(household_id: str, body: MeasureIn, session: SessionDep, _: Writer) -> MeasureOut:
    return service.measure_view(await service.add_measure(session, household_id, body))


@router.get("/measures/{measure_id}", response_model=MeasureOut)
async def read_measure(measure_id: str, session: SessionDep, _: Reader) -> MeasureOut:
    return service.measure_view(await service.get_measure(session, measure_id))


@router.post("/measures/{measure_id}/progress", response_model=MeasureOut)
async def progress(measure_id: str, body: ProgressIn, session: SessionDep, _: Writer) -> MeasureOut:
    return service.measure_view(await service.progress(session, measure_id, body))


@router.get("/households/{household_id}/plan", response_model=PlanOut)
async def read_plan(household_id: str, session: SessionDep, _: Reader) -> PlanOut:
    return await service.plan(session, household_id)
