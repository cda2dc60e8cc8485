"""Helpers (帮扶责任人), pairings and coverage (contract §7)."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from assistance.access import Reader, Writer
from assistance.helpers import service
from assistance.helpers.schemas import CoverageOut, EndIn, HelperIn, HelperOut, PairingIn, PairingOut
from fupin_kit.db import SessionDep

router = APIRouter(prefix="/assistance", tags=["helpers"])


@router.post("/helpers", status_code=status.HTTP_201_CREATED, response_model=HelperOut)
async def create_helper(body: HelperIn, session: SessionDep, _: Writer) -> HelperOut:
    return await service.helper_view(session, await service.create_helper(session, body))


@router.get("/helpers", response_model=list[HelperOut])
async def list_helpers(session: SessionDep, _: Reader, unit_id: Annotated[str | None, Query(max_length=64)] = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100,
                       offset: Annotated[int, Query(ge=0)] = 0) -> list[HelperOut]:
    return await service.list_helpers(session, unit_id=unit_id, limit=limit, offset=offset)


@router.get("/helpers/{helper_id}", response_model=HelperOut)
async def read_helper(helper_id: str, session: SessionDep, _: Reader) -> HelperOut:
    return await service.helper_view(session, await service.get_helper(session, helper_id))


@router.post("/pairings", status_code=status.HTTP_201_CREATED, response_model=PairingOut)
async def create_pairing(body: PairingIn, session: SessionDep, _: Writer) -> PairingOut:
    return PairingOut.model_validate(await service.assign(session, body))


@router.get("/pairings/{pairing_id}", response_model=PairingOut)
async def read_pairing(pairing_id: str, session: SessionDep, _: Reader) -> PairingOut:
    return PairingOut.model_validate(await service.get_pairing(session, pairing_id))


@router.post("/pairings/{pairing_id}/end", response_model=PairingOut)
async def end_pairing(pairing_id: str, body: EndIn, session: SessionDep, _: Writer) -> PairingOut:
    return PairingOut.model_validate(await service.end_pairing(session, pairing_id, body))


@router.get("/coverage", response_model=CoverageOut)
async def read_coverage(session: SessionDep, _: Reader,
                        division_code: Annotated[str, Query(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")]) -> CoverageOut:
    return await service.coverage_of(session, division_code)
