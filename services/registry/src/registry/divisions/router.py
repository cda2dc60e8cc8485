"""`/registry/divisions`: master data with statistics, the public notice (no token) and village/county exit."""

from typing import Any

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fupin_kit.db import SessionDep
from fupin_kit.errors import problem
from registry import scope
from registry.access import DivisionWriter, Reader
from registry.divisions import service
from registry.divisions.models import Division, DivisionExit, DivisionPublic, DivisionPut

router = APIRouter(prefix="/registry/divisions", tags=["divisions"])
Code = Path(min_length=6, max_length=12, pattern=r"^\d+$")


async def _public(session: Any, division: Division) -> DivisionPublic:
    return DivisionPublic(code=division.code, name=division.name, level=division.level,
                          parent_code=division.parent_code, poor=division.poor, population=division.population,
                          exited=division.exited_at is not None, exited_at=division.exited_at,
                          stats=await service.division_stats(session, division))


@router.put("/{code}", response_model=DivisionPublic)
async def put_division(body: DivisionPut, session: SessionDep, principal: DivisionWriter,
                       response: Response, code: str = Code) -> DivisionPublic:
    """An official creates or changes divisions below their own only (another is `404 division_not_found`; their
    own division `403 forbidden`)."""
    await scope.require_division_put(session, code, body.parent_code, principal.division)
    division, created = await service.put_division(session, code=code, body=body)
    response.status_code = 201 if created else 200
    return await _public(session, division)


@router.get("/{code}", response_model=DivisionPublic)
async def read_division(session: SessionDep, _: Reader, code: str = Code) -> DivisionPublic:
    return await _public(session, await service.get_division(session, code))


class NoticeEntry(BaseModel):
    household_id: str
    head_name: str
    member_count: int
    causes: list[str]


class PublicNotice(BaseModel):
    village_code: str
    village_name: str
    households: list[NoticeEntry]


@router.get("/{code}/public-notice", response_model=PublicNotice)
async def public_notice(session: SessionDep, code: str = Code) -> PublicNotice:
    """公示: no token. Masked head names, member counts and causes; never an ID number."""
    village, entries = await service.public_notice(session, village_code=code)
    return PublicNotice(village_code=village.code, village_name=village.name, households=[
        NoticeEntry(household_id=str(e["household_id"]), head_name=e["head_name"], member_count=e["member_count"],
                    causes=e["causes"]) for e in entries])


class DivisionExitAnswer(BaseModel):
    division_code: str
    level: str
    exited: bool
    poverty_incidence: str | None
    threshold: str
    poor_persons: int
    population: int
    policy_year: int


def _exit_answer(division: Division, decision: DivisionExit) -> DivisionExitAnswer:
    incidence = decision.poverty_incidence
    return DivisionExitAnswer(
        division_code=division.code, level=division.level, exited=decision.exited,
        poverty_incidence=None if incidence is None else f"{incidence:.4f}", threshold=f"{decision.threshold:.4f}",
        poor_persons=decision.poor_persons, population=decision.population, policy_year=decision.policy_year)


@router.post("/{code}/exit", response_model=DivisionExitAnswer)
async def exit_division(session: SessionDep, principal: DivisionWriter,
                        code: str = Code) -> DivisionExitAnswer | JSONResponse:
    await scope.require_division(session, code, principal.division)
    division, decision = await service.decide_division_exit(session, code=code, actor=principal.client_id)
    answer = _exit_answer(division, decision)
    if not decision.exited:
        # Answered, not raised: the refused decision is committed with the figures it used.
        return problem(422, "incidence_above_threshold",
                       f"poverty incidence {answer.poverty_incidence} is not below {answer.threshold}",
                       **answer.model_dump())
    return answer
