"""Funds received, integrated funds, allocations to programme accounts."""

import uuid

from fastapi import APIRouter

from finance.access import FinanceReader, FinanceWriter
from finance.funds import service
from finance.funds.models import (
    AllocationPublic,
    AllocationRequest,
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
    """Into the programme account of the fund's jurisdiction; waiting payments there are paid, oldest first."""
    allocation, balances, released = await service.allocate(session, request=body, recorded_by=principal.client_id)
    fund = await service.get_fund(session, allocation.fund_id)
    return AllocationPublic(allocation_id=allocation.id, from_fund_id=allocation.fund_id,
                            jurisdiction_code=allocation.jurisdiction_code, program=allocation.program,
                            amount=allocation.amount, fund_balance=balances[fund.account_id],
                            account_balance=balances[allocation.account_id], entry_id=allocation.entry_id,
                            recorded_by=allocation.recorded_by, note=allocation.note, payments_released=released)
