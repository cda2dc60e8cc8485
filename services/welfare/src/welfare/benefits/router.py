"""/welfare/runs (the monthly run) and /welfare/benefits."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from fupin_kit.db import SessionDep
from fupin_kit.errors import Unprocessable
from fupin_kit.memory import release_memory
from fupin_kit.text import NoNul
from welfare.access import WelfareReader, WelfareWriter
from welfare.benefits import run as monthly_run
from welfare.benefits import service
from welfare.benefits.models import benefit_out, run_out
from welfare.months import MONTH_PATTERN

router = APIRouter(prefix="/welfare", tags=["benefits"])


class RunIn(BaseModel):
    month: str = Field(pattern=MONTH_PATTERN)


@router.post("/runs", status_code=201)
async def create_run(body: RunIn, request: Request, session: SessionDep, principal: WelfareWriter) -> JSONResponse:
    run = await monthly_run.run_month(session, request.app.state.db, month=body.month,
                                      created_by=principal.client_id)
    release_memory()  # a city's run built and freed 100,000 benefits' rows and events
    return JSONResponse(run_out(run), status_code=201, headers={"Location": f"/welfare/runs/{run.run_id}"})


@router.get("/runs/{run_id}")
async def read_run(run_id: str, session: SessionDep, _: WelfareReader) -> dict[str, Any]:
    return run_out(await service.get_run(session, run_id))


@router.get("/benefits")
async def list_benefits(
        session: SessionDep, _: WelfareReader,
        case_id: Annotated[str | None, Query(max_length=64), NoNul] = None,
        household_id: Annotated[str | None, Query(max_length=64), NoNul] = None) -> list[dict[str, Any]]:
    if case_id is None and household_id is None:
        raise Unprocessable("validation_error", "give case_id or household_id",
                            errors=[{"field": "case_id", "message": "case_id or household_id is required"}])
    return [benefit_out(b) for b in await service.list_benefits(session, case_id=case_id, household_id=household_id)]


@router.get("/benefits/{benefit_id}")
async def read_benefit(benefit_id: str, session: SessionDep, _: WelfareReader) -> dict[str, Any]:
    return benefit_out(await service.get_benefit(session, benefit_id))
