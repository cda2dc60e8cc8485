"""GET/PUT /medical/policies/{year}: the waterfall's figures per calendar year."""

from fastapi import APIRouter, Path, Response

from fupin_kit.db import SessionDep
from medical.access import AnyMedicalClient, MedicalWriter
from medical.policies import service
from medical.policies.models import PolicyIn, PolicyPublic

router = APIRouter(prefix="/medical/policies", tags=["policies"])
Year = Path(ge=2000, le=2100)


@router.get("/{year}")
async def read_policy(session: SessionDep, _: AnyMedicalClient,
                      year: int = Year) -> PolicyPublic:
    return service.public(await service.STORE.get(session, year))


@router.put("/{year}")
async def set_policy(body: PolicyIn, session: SessionDep, principal: MedicalWriter,
                     response: Response, year: int = Year) -> PolicyPublic:
    stored, created = await service.set_policy(session, year=year, policy_in=body, updated_by=principal.client_id)
    response.status_code = 201 if created else 200
    return service.public(stored)
