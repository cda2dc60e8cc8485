"""GET/PUT /welfare/policies/{year}: the welfare terms of a year (welfare:write changes them)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path

from fupin_kit.db import SessionDep
from welfare.access import WelfareReader, WelfareWriter
from welfare.policies import service
from welfare.policies.models import PolicyIn, policy_out

router = APIRouter(prefix="/welfare/policies", tags=["policies"])
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.get("/{year}")
async def read_policy(year: Year, session: SessionDep,
                      _: WelfareReader) -> dict[str, Any]:
    policy, is_default = await service.policy_for(session, year=year)
    return policy_out(year, policy, is_default)


@router.put("/{year}")
async def set_policy(year: Year, terms: PolicyIn, session: SessionDep,
                     principal: WelfareWriter) -> dict[str, Any]:
    policy = await service.set_policy(session, year=year, terms=terms, updated_by=principal.client_id)
    return policy_out(year, policy, False)
