"""Units (帮扶单位), village pairings, village work teams (驻村工作队), members, attendance, withdrawal (§7)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from assistance.access import Reader, Writer
from assistance.common import YearPath
from assistance.teams import service
from assistance.teams.schemas import (
    AttendanceIn,
    AttendanceOut,
    EndIn,
    LeaveIn,
    MemberIn,
    MemberOut,
    TeamAttendanceOut,
    TeamIn,
    TeamOut,
    UnitIn,
    UnitOut,
    VillagePairingIn,
    VillagePairingOut,
    WithdrawalIn,
)
from fupin_kit.db import SessionDep

router = APIRouter(prefix="/assistance", tags=["units and teams"])


@router.post("/units", status_code=status.HTTP_201_CREATED, response_model=UnitOut)
async def create_unit(body: UnitIn, session: SessionDep, _: Writer) -> UnitOut:
    return UnitOut.model_validate(await service.create_unit(session, body))


@router.get("/units/{unit_id}", response_model=UnitOut)
async def read_unit(unit_id: str, session: SessionDep, _: Reader) -> UnitOut:
    return UnitOut.model_validate(await service.get_unit(session, unit_id))


@router.post("/units/{unit_id}/villages", status_code=status.HTTP_201_CREATED, response_model=VillagePairingOut)
async def pair_village(unit_id: str, body: VillagePairingIn, session: SessionDep, _: Writer) -> VillagePairingOut:
    return VillagePairingOut.model_validate(await service.pair_village(session, unit_id, body))


@router.get("/village-pairings/{village_pairing_id}", response_model=VillagePairingOut)
async def read_village_pairing(village_pairing_id: str, session: SessionDep, _: Reader) -> VillagePairingOut:
    return VillagePairingOut.model_validate(await service.get_village_pairing(session, village_pairing_id))


@router.post("/village-pairings/{village_pairing_id}/end", response_model=VillagePairingOut)
async def end_village_pairing(village_pairing_id: str, body: EndIn, session: SessionDep,
                              _: Writer) -> VillagePairingOut:
    return VillagePairingOut.model_validate(await service.end_village_pairing(session, village_pairing_id, body))


@router.post("/teams", status_code=status.HTTP_201_CREATED, response_model=TeamOut)
async def form_team(body: TeamIn, session: SessionDep, _: Writer) -> TeamOut:
    return await service.team_view(session, await service.form_team(session, body))


@router.get("/teams/{team_id}", response_model=TeamOut)
async def read_team(team_id: str, session: SessionDep, _: Reader) -> TeamOut:
    return await service.team_view(session, await service.get_team(session, team_id))


@router.post("/teams/{team_id}/members", status_code=status.HTTP_201_CREATED, response_model=MemberOut)
async def add_member(team_id: str, body: MemberIn, session: SessionDep, _: Writer) -> MemberOut:
    return MemberOut.model_validate(await service.add_member(session, team_id, body))


@router.get("/teams/{team_id}/members/{team_member_id}", response_model=MemberOut)
async def read_member(team_id: str, team_member_id: str, session: SessionDep, _: Reader) -> MemberOut:
    return MemberOut.model_validate(await service.get_member(session, team_id, team_member_id))


@router.post("/teams/{team_id}/members/{team_member_id}/leave", response_model=MemberOut)
async def leave(team_id: str, team_member_id: str, body: LeaveIn, session: SessionDep, _: Writer) -> MemberOut:
    return MemberOut.model_validate(await service.leave(session, team_id, team_member_id, body))


@router.put("/teams/{team_id}/members/{team_member_id}/attendance/{year}", response_model=AttendanceOut)
async def record_attendance(team_id: str, team_member_id: str, year: YearPath, body: AttendanceIn,
                            session: SessionDep, response: Response, _: Writer) -> AttendanceOut:
    answer, created = await service.record_attendance(session, team_id, team_member_id, year, body.days_present)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return answer


@router.get("/teams/{team_id}/attendance", response_model=TeamAttendanceOut)
async def team_attendance(team_id: str, session: SessionDep, _: Reader,
                          year: Annotated[int, Query(ge=2000, le=2100)]) -> TeamAttendanceOut:
    return await service.team_attendance(session, team_id, year)


@router.post("/teams/{team_id}/withdrawal", response_model=TeamOut)
async def withdraw(team_id: str, body: WithdrawalIn, session: SessionDep, _: Writer) -> TeamOut:
    return await service.team_view(session, await service.withdraw(session, team_id, body))
