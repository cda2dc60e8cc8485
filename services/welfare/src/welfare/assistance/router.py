"""POST /welfare/temporary-assistance (临时救助) and GET of a grant."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from fupin_kit.db import SessionDep
from welfare.access import WelfareReader, WelfareWriter
from welfare.assistance import service
from welfare.assistance.models import TemporaryAssistanceIn
from welfare.benefits.service import benefit_not_found, get_benefit

router = APIRouter(prefix="/welfare", tags=["temporary assistance"])


@router.post("/temporary-assistance", status_code=201)
async def grant(body: TemporaryAssistanceIn, session: SessionDep,
                _: WelfareWriter) -> JSONResponse:
    answer = await service.grant(session, body)
    return JSONResponse(answer, status_code=201,
                        headers={"Location": f"/welfare/temporary-assistance/{answer['benefit_id']}"})


@router.get("/temporary-assistance/{benefit_id}")
async def read_grant(benefit_id: str, session: SessionDep,
                     _: WelfareReader) -> dict[str, Any]:
    benefit = await get_benefit(session, benefit_id)
    if benefit.kind != "temporary_assistance":
        raise benefit_not_found()
    return await service.view(session, benefit)
