"""The war map's village household list (contract §9): masked names, status, member count and causes, never an ID
number. An official (the `division` claim of the gateway's session token) sees only villages in their subtree; any
other village is `404 division_not_found`."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from fupin_kit.db import SessionDep
from registry.access import WarmapReader
from registry.warmap import service

router = APIRouter(prefix="/registry/warmap", tags=["war map"])
VillageCode = Annotated[str, Path(pattern=r"^\d{12}$", description="the village's 12-digit code")]


@router.get("/villages/{code}/households", summary="A village's households for the war map (masked names)")
async def village_households(code: VillageCode, session: SessionDep, principal: WarmapReader,
                             page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                             page_size: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    return await service.village_households(session, code=code, division=principal.division, page=page,
                                            page_size=page_size)
