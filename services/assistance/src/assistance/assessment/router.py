"""Targets (责任书), misuse findings, assessments (考核) and summonses (约谈), contract §7."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from assistance.access import Reader, Writer
from assistance.assessment import service
from assistance.assessment.schemas import (
    AssessmentIn,
    AssessmentOut,
    FindingIn,
    FindingOut,
    RecordIn,
    SummonsOut,
    TargetsIn,
    TargetsOut,
)
from assistance.common import CountyPath, YearPath
from fupin_kit.db import SessionDep

router = APIRouter(prefix="/assistance", tags=["targets and assessment"])


@router.put("/targets/{county_code}/years/{year}", response_model=TargetsOut)
async def set_targets(county_code: CountyPath, year: YearPath, body: TargetsIn, session: SessionDep,
                      response: Response, principal: Writer) -> TargetsOut:
    created = await service.set_targets(session, county_code=county_code, year=year, body=body,
                                        updated_by=principal.client_id)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return TargetsOut(county_code=county_code, year=year, **dict(body))


@router.get("/targets/{county_code}/years/{year}", response_model=TargetsOut)
async def read_targets(county_code: CountyPath, year: YearPath, session: SessionDep, _: Reader) -> TargetsOut:
    target = await service.get_targets(session, county_code, year)
    if target is None:
        raise service.targets_not_set(county_code, year, 404)
    return TargetsOut(county_code=county_code, year=year, households_to_exit=target.households_to_exit,
                      villages_to_exit=target.villages_to_exit, funds_to_spend=target.funds_to_spend)


@router.post("/misuse-findings", status_code=status.HTTP_201_CREATED, response_model=FindingOut)
async def add_finding(body: FindingIn, session: SessionDep, principal: Writer) -> FindingOut:
    return service.finding_view(await service.add_finding(session, body, principal.client_id))


@router.get("/misuse-findings/{finding_id}", response_model=FindingOut)
async def read_finding(finding_id: str, session: SessionDep, _: Reader) -> FindingOut:
    return service.finding_view(await service.get_finding(session, finding_id))


@router.post("/assessments", status_code=status.HTTP_201_CREATED, response_model=AssessmentOut)
async def assess(body: AssessmentIn, session: SessionDep, principal: Writer) -> AssessmentOut:
    return service.assessment_view(await service.assess_county(
        session, county_code=body.county_code, year=body.year, assessed_by=principal.client_id))


@router.get("/assessments/{assessment_id}", response_model=AssessmentOut)
async def read_assessment(assessment_id: str, session: SessionDep, _: Reader) -> AssessmentOut:
    return service.assessment_view(await service.get_assessment(session, assessment_id))


@router.get("/summonses", response_model=list[SummonsOut])
async def list_summonses(session: SessionDep, _: Reader,
                         county_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
                         year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> list[SummonsOut]:
    return await service.list_summonses(session, county_code=county_code, year=year)


@router.get("/summonses/{summons_id}", response_model=SummonsOut)
async def read_summons(summons_id: str, session: SessionDep, _: Reader) -> SummonsOut:
    return service.summons_view(await service.get_summons(session, summons_id))


@router.post("/summonses/{summons_id}/record", response_model=SummonsOut)
async def record_summons(summons_id: str, body: RecordIn, session: SessionDep, _: Writer) -> SummonsOut:
    return service.summons_view(await service.record_summons(session, summons_id, body))
