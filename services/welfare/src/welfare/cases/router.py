"""/welfare/cases (低保) and /welfare/coverage (应保尽保)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from fupin_kit.db import SessionDep
from fupin_kit.text import NoNul
from welfare.access import WelfareReader, WelfareWriter
from welfare.cases import service
from welfare.cases.models import AssessmentIn, CaseIn, ClosureIn

router = APIRouter(prefix="/welfare", tags=["cases"])


@router.post("/cases", status_code=201)
async def open_case(body: CaseIn, session: SessionDep, principal: WelfareWriter) -> JSONResponse:
    view = await service.open_case(session, body, created_by=principal.client_id)
    return JSONResponse(view, status_code=201, headers={"Location": f"/welfare/cases/{view['case_id']}"})


@router.get("/cases")
async def list_cases(session: SessionDep, _: WelfareReader,
                     household_id: Annotated[str, Query(min_length=1, max_length=64), NoNul]) -> list[dict[str, Any]]:
    return await service.cases_of_household(session, household_id)


@router.get("/cases/{case_id}")
async def read_case(case_id: str, session: SessionDep, _: WelfareReader) -> dict[str, Any]:
    return await service.read_case(session, case_id)


@router.post("/cases/{case_id}/income-assessments", status_code=201)
async def add_assessment(case_id: str, body: AssessmentIn, session: SessionDep, _: WelfareWriter) -> dict[str, Any]:
    return await service.add_assessment(session, case_id, body)


@router.post("/cases/{case_id}/closure")
async def close_case(case_id: str, body: ClosureIn, session: SessionDep, _: WelfareWriter) -> dict[str, Any]:
    return await service.close_case(session, case_id, body)


@router.get("/coverage")
async def coverage(session: SessionDep, _: WelfareReader,
                   division_code: Annotated[str, Query(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")]) -> dict[str, Any]:
    return {"division_code": division_code, "items": await service.coverage(session, division_code)}
