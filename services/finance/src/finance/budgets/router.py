"""Budgets of jurisdictions per year, the yearly policy values, and the 2% / growth compliance report (§5)."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from finance.access import FinanceReader, FinanceWriter
from finance.budgets import service
from finance.budgets.models import (
    BudgetPolicyIn,
    BudgetPolicyPublic,
    ComplianceReport,
    JurisdictionYearIn,
    JurisdictionYearPublic,
    PendingThresholdChange,
    ThresholdDecision,
)
from finance.budgets.service import BudgetPolicyValues
from finance.divisions import JURISDICTION_PATTERN
from fupin_kit.db import SessionDep
from fupin_kit.errors import NotFound
from fupin_kit.policies import Stored

router = APIRouter(prefix="/finance", tags=["budgets"])

Code = Annotated[str, Path(pattern=JURISDICTION_PATTERN, description="6-digit city or county division code")]
Year = Annotated[int, Path(ge=2000, le=2100)]


def _public(row: object) -> JurisdictionYearPublic:
    return JurisdictionYearPublic.model_validate(row, from_attributes=True)


@router.put("/jurisdictions/{code}/years/{year}", response_model=JurisdictionYearPublic)
async def put_jurisdiction_year(code: Code, year: Year, body: JurisdictionYearIn, session: SessionDep,
                                principal: FinanceWriter, response: Response) -> JurisdictionYearPublic:
    row, created = await service.put_year(session, jurisdiction_code=code, year=year, body=body,
                                          recorded_by=principal.client_id)
    response.status_code = 201 if created else 200
    return _public(row)


@router.get("/jurisdictions/{code}/years/{year}", response_model=JurisdictionYearPublic)
async def get_jurisdiction_year(code: Code, year: Year, session: SessionDep,
                                _: FinanceReader) -> JurisdictionYearPublic:
    row = await service.get_year(session, jurisdiction_code=code, year=year)
    if row is None:
        raise NotFound("jurisdiction_year_not_found", f"no budget recorded for jurisdiction {code} in {year}")
    return _public(row)


@router.get("/jurisdictions/{code}/years/{year}/compliance", response_model=ComplianceReport)
async def get_compliance(code: Code, year: Year, session: SessionDep, _: FinanceReader) -> ComplianceReport:
    return await service.compliance(session, jurisdiction_code=code, year=year)


@router.put("/policies/{year}", response_model=BudgetPolicyPublic)
async def put_policy(year: Year, body: BudgetPolicyIn, session: SessionDep,
                     principal: FinanceWriter) -> BudgetPolicyPublic:
    """Replace the year's policy values; `allocation_approval_threshold` absent or null turns maker-checker off."""
    return _policy_public(await service.put_policy(session, year=year, body=body, recorded_by=principal.client_id))


@router.get("/policies/{year}", response_model=BudgetPolicyPublic)
async def get_policy(year: Year, session: SessionDep, _: FinanceReader) -> BudgetPolicyPublic:
    return _policy_public(await service.STORE.get(session, year))


def _policy_public(stored: Stored[int, BudgetPolicyValues]) -> BudgetPolicyPublic:
    policy = stored.policy
    pending = None if policy.pending_threshold_by is None else PendingThresholdChange(
        allocation_approval_threshold=policy.pending_threshold, requested_by=policy.pending_threshold_by)
    return BudgetPolicyPublic(year=stored.key, floor_ratio=policy.floor_ratio, min_growth_rate=policy.min_growth_rate,
                              allocation_approval_threshold=policy.allocation_approval_threshold,
                              pending_threshold_change=pending, default=stored.is_default,
                              is_default=stored.is_default)


@router.post("/policies/{year}/threshold-approval", response_model=BudgetPolicyPublic)
async def decide_threshold(year: Year, body: ThresholdDecision, session: SessionDep,
                           principal: FinanceWriter) -> BudgetPolicyPublic:
    """Maker-checker on the threshold itself: another `finance:write` client approves or refuses a loosening change."""
    return _policy_public(await service.decide_threshold(session, year=year, approved=body.approved,
                                                         checker=principal.client_id))
