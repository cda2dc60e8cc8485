"""GET/PUT /assistance/policies/{year} (contract §7 "Default policy per year")."""

from fastapi import APIRouter

from assistance.access import Reader, Writer
from assistance.common import YearPath
from assistance.policies import service
from assistance.policies.models import PolicyIn, PolicyOut
from fupin_kit.db import SessionDep

router = APIRouter(prefix="/assistance/policies", tags=["policies"])


@router.get("/{year}", response_model=PolicyOut)
async def read_policy(year: YearPath, session: SessionDep, _: Reader) -> PolicyOut:
    policy, is_default = await service.policy_for(session, year=year)
    return service.policy_view(year, policy, is_default)


@router.put("/{year}", response_model=PolicyOut)
async def set_policy(year: YearPath, body: PolicyIn, session: SessionDep, principal: Writer) -> PolicyOut:
    policy = await service.set_policy(session, year=year, body=body, updated_by=principal.client_id)
    return service.policy_view(year, policy, False)
