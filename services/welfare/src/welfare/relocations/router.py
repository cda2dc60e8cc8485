"""/welfare/relocations (易地扶贫搬迁)."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from fupin_kit.db import SessionDep
from welfare.access import WelfareReader, WelfareWriter
from welfare.relocations import service
from welfare.relocations.models import MoveInIn, RelocationIn, relocation_out

router = APIRouter(prefix="/welfare", tags=["relocations"])


@router.post("/relocations", status_code=201)
async def plan(body: RelocationIn, session: SessionDep, _: WelfareWriter) -> JSONResponse:
    answer = await service.plan(session, body)
    return JSONResponse(answer, status_code=201,
                        headers={"Location": f"/welfare/relocations/{answer['relocation_id']}"})


@router.get("/relocations/{relocation_id}")
async def read(relocation_id: str, session: SessionDep, _: WelfareReader) -> dict[str, Any]:
    return relocation_out(await service.load(session, relocation_id))


@router.post("/relocations/{relocation_id}/move-in")
async def move_in(relocation_id: str, body: MoveInIn, session: SessionDep, _: WelfareWriter) -> dict[str, Any]:
    return await service.move_in(session, relocation_id, body)
