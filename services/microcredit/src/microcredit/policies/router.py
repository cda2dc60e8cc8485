"""GET/PUT /microcredit/policies/{year}: the product terms of a year (microcredit:write changes them)."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path

from fupin_kit.db import SessionDep
from fupin_kit.policies import Stored
from microcredit.access import MicrocreditWriter, PolicyReader
from microcredit.policies import service
from microcredit.policies.models import PolicyIn, PolicyOut
from microcredit.rules import ProductPolicy

router = APIRouter(prefix="/microcredit/policies", tags=["policies"])
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.get("/{year}", response_model=PolicyOut)
async def read_policy(year: Year, session: SessionDep,
                      _: PolicyReader) -> PolicyOut:
    return _answer(await service.STORE.get(session, year))


@router.put("/{year}", response_model=PolicyOut)
async def set_policy(year: Year, terms: PolicyIn, session: SessionDep,
                     principal: MicrocreditWriter) -> PolicyOut:
    return _answer(await service.set_policy(session, year=year, terms=terms, updated_by=principal.client_id))


def _answer(stored: Stored[int, ProductPolicy]) -> PolicyOut:
    return PolicyOut(year=stored.key, is_default=stored.is_default, **asdict(stored.policy))
