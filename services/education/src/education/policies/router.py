"""PUT/GET /education/policies/{academic_year} (contract §3)."""

from fastapi import APIRouter

from education.academic_years import AcademicYear
from education.access import Reader, Writer
from education.policies import service
from education.policies.models import PolicyAmounts, PolicyPublic
from fupin_kit.db import SessionDep

router = APIRouter(prefix="/education/policies", tags=["policies"])


@router.get("/{academic_year}", response_model=PolicyPublic)
async def read_policy(academic_year: AcademicYear, session: SessionDep,
                      _: Reader) -> PolicyPublic:
    return await service.read_policy(session, academic_year=academic_year)


@router.put("/{academic_year}", response_model=PolicyPublic)
async def set_policy(academic_year: AcademicYear, amounts: PolicyAmounts, session: SessionDep,
                     principal: Writer) -> PolicyPublic:
    return await service.set_policy(session, academic_year=academic_year, amounts=amounts,
                                    updated_by=principal.client_id)
