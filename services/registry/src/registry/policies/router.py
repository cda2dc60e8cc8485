"""`GET/PUT /registry/policies/{year}`: the poverty line and exit threshold used by exit decisions."""

from fastapi import APIRouter, Path, Response

from fupin_kit.db import SessionDep
from registry.access import Reader, Writer
from registry.policies import service
from registry.policies.models import PolicyIn, PolicyPublic
from registry.policies.service import YearPolicy

router = APIRouter(prefix="/registry/policies", tags=["policies"])
Year = Path(ge=1990, le=2100)


def _public(policy: YearPolicy) -> PolicyPublic:
    return PolicyPublic(year=policy.year, poverty_line=policy.poverty_line,
                        exit_incidence_threshold=policy.exit_incidence_threshold,
                        return_risk_multiplier=policy.return_risk_multiplier, source=policy.source,
                        is_default=policy.is_default)


@router.get("/{year}", response_model=PolicyPublic)
async def read_policy(session: SessionDep, _: Reader, year: int = Year) -> PolicyPublic:
    return _public(await service.policy_for(session, year=year))


@router.put("/{year}", response_model=PolicyPublic)
async def put_policy(body: PolicyIn, session: SessionDep, principal: Writer,
                     response: Response, year: int = Year) -> PolicyPublic:
    policy, created = await service.set_policy(session, year=year, values=body, actor=principal.client_id)
    response.status_code = 201 if created else 200
    return _public(policy)
