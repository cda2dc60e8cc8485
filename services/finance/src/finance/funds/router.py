"""Funds received, integrated funds, allocations to programme accounts."""

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from finance.access import FinanceReader, FinanceWriter
from finance.divisions import JURISDICTION_PATTERN
from finance.funds import service
from finance.funds.models import (
    Allocation,
    AllocationPublic,
    AllocationRequest,
    AllocationStatus,
    ApprovalDecision,
    Fund,
    FundPublic,
    FundReceipt,
    IntegrationRequest,
    LineagePiece,
)
from finance.ledger import service as ledger
from fupin_kit.db import SessionDep

router = APIRouter(prefix="/finance", tags=["funds"])


async def _public(session: SessionDep, fund: Fund) -> FundPublic:
    balance = (await service.fund_balances(session, [fund]))[fund.account_id]
    components = [LineagePiece(fund_id=c.component_fund_id, amount=c.amount)
                  for c in await service.components(session, fund.id)]
    lineage = [LineagePiece(fund_id=p.source_fund_id, amount=p.amount)
               for p in await ledger.account_pieces(session, fund.account_id)]
    return FundPublic(fund_id=fund.id, jurisdiction_code=fund.jurisdiction_code, year=fund.year, source=fund.source,
                      purpose=fund.purpose, amount=fund.amount, balance=balance, account_id=fund.account_id,
                      recorded_by=fund.recorded_by, note=fund.note, components=components, lineage=lineage)


@router.post("/funds", status_code=201, response_model=FundPublic)
async def receive_fund(body: FundReceipt, session: SessionDep, principal: FinanceWriter) -> FundPublic:
    """Money received from a source, earmarked for a purpose."""
    fund = await service.receive_fund(session, receipt=body, recorded_by=principal.client_id)
    return await _public(session, fund)


@router.get("/funds/{fund_id}", response_model=FundPublic)
async def get_fund(fund_id: uuid.UUID, session: SessionDep, _: FinanceReader) -> FundPublic:
    return await _public(session, await service.get_fund(session, fund_id))


@router.post("/integrations", status_code=201, response_model=FundPublic)
async def integrate(body: IntegrationRequest, session: SessionDep, principal: FinanceWriter) -> FundPublic:
    """A new `integrated` fund from earmarked funds; its lineage names every source fund and amount."""
    fund = await service.integrate_funds(session, request=body, recorded_by=principal.client_id)
    return await _public(session, fund)


@router.post("/allocations", status_code=201, response_model=AllocationPublic)
async def allocate(body: AllocationRequest, session: SessionDep, principal: FinanceWriter) -> AllocationPublic:
    """Into the programme account of the fund's jurisdiction; waiting payments there are paid, oldest first. Above
    the fund year's `allocation_approval_threshold` the allocation is `pending_approval` and moves nothing yet."""
    allocation, balances, released = await service.allocate(session, request=body, recorded_by=principal.client_id)
    return await _allocation_public(session, allocation, balances, released)


@router.get("/allocations", response_model=list[AllocationPublic])
async def list_allocations(session: SessionDep, _: FinanceReader,
                           status: AllocationStatus = "pending_approval",
                           jurisdiction_code: Annotated[str | None, Query(pattern=JURISDICTION_PATTERN)] = None,
                           ) -> list[AllocationPublic]:
    """Allocations in one status, oldest first: by default the checker's queue of those waiting for approval."""
    found = await service.allocations_with_status(session, status=status, jurisdiction_code=jurisdiction_code)
    return [await _allocation_public(session, a) for a in found]


@router.get("/allocations/{allocation_id}", response_model=AllocationPublic)
async def get_allocation(allocation_id: uuid.UUID, session: SessionDep, _: FinanceReader) -> AllocationPublic:
    return await _allocation_public(session, await service.get_allocation(session, allocation_id))


@router.post("/allocations/{allocation_id}/approval", response_model=AllocationPublic)
async def decide_allocation(allocation_id: uuid.UUID, body: ApprovalDecision, session: SessionDep,
                            principal: FinanceWriter) -> AllocationPublic:
    """Maker-checker: another `finance:write` client approves (the money moves now) or refuses a waiting allocation."""
    allocation, balances, released = await service.decide(session, allocation_id=allocation_id, decision=body,
                                                          checker=principal.client_id)
    return await _allocation_public(session, allocation, balances, released)


async def _allocation_public(session: SessionDep, allocation: Allocation, balances: dict[int, Decimal] | None = None,
                             released: list[uuid.UUID] | None = None) -> AllocationPublic:
    fund = await service.get_fund(session, allocation.fund_id)
    if balances is None:
        balances = await ledger.balances(session, [fund.account_id, allocation.account_id])
    return AllocationPublic(allocation_id=allocation.id, from_fund_id=allocation.fund_id,
                            jurisdiction_code=allocation.jurisdiction_code, program=allocation.program,
                            amount=allocation.amount, status=allocation.status,  # type: ignore[arg-type]
                            fund_balance=balances[fund.account_id], account_balance=balances[allocation.account_id],
                            entry_id=allocation.entry_id, recorded_by=allocation.recorded_by, note=allocation.note,
                            decided_by=allocation.decided_by, decided_at=allocation.decided_at,
                            decision_note=allocation.decision_note, payments_released=released or [])
