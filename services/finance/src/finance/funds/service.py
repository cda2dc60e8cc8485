"""Money received (funds), integration of earmarked funds with lineage, allocation to programme accounts."""

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from finance.budgets import service as budgets
from finance.divisions import city_of
from finance.events import published
from finance.funds import rules
from finance.funds.models import (
    Allocation,
    AllocationRequest,
    ApprovalDecision,
    Fund,
    FundComponent,
    FundReceipt,
    IntegrationRequest,
)
from finance.ledger import service as ledger
from finance.ledger.models import Account
from finance.ledger.rules import MAX_BALANCE, Piece, Posting, fits
from finance.payments import service as payments
from fupin_kit.errors import AppError, Conflict, NotFound, Unprocessable
from fupin_kit.money import format_money


def insufficient_funds(fund_id: uuid.UUID, balance: Decimal, amount: Decimal) -> Unprocessable:
    return Unprocessable("insufficient_funds", f"fund {fund_id} holds {format_money(balance)}, "
                         f"less than the {format_money(amount)} asked", fund_id=str(fund_id),
                         balance=format_money(balance), requested=format_money(amount))


async def get_fund(session: AsyncSession, fund_id: uuid.UUID) -> Fund:
    fund = await session.get(Fund, fund_id)
    if fund is None:
        raise NotFound("fund_not_found", f"fund {fund_id} does not exist", fund_id=str(fund_id))
    return fund


async def receive_fund(session: AsyncSession, *, receipt: FundReceipt, recorded_by: str) -> Fund:
    """Money arrives from `source`: debit the new fund's account, credit the source's treasury account."""
    treasury = ledger.treasury_account(receipt.source)
    treasury_id = (await ledger.ensure_accounts(session, [treasury]))[treasury.code]
    fund_id = uuid.uuid4()
    account_id = await ledger.open_fund_account(session, fund_id, receipt.jurisdiction_code)
    fund = Fund(id=fund_id, jurisdiction_code=receipt.jurisdiction_code, year=receipt.year, source=receipt.source,
                purpose=receipt.purpose, amount=receipt.amount, account_id=account_id, recorded_by=recorded_by,
                note=receipt.note)
    session.add(fund)
    await session.flush()
    entry_id = await ledger.post_entry(
        session, kind="receipt", reference=str(fund_id), recorded_by=recorded_by, note=receipt.note,
        postings=[Posting(account_id, debit=receipt.amount), Posting(treasury_id, credit=receipt.amount)])
    await ledger.add_lots(session, account_id, entry_id, [Piece(fund_id, receipt.amount)])
    return fund


async def integrate_funds(session: AsyncSession, *, request: IntegrationRequest, recorded_by: str) -> Fund:
    """Seed §五(十五) 对中省市下达的各项专款,县区可以整合用于脱贫攻坚项目: a new `integrated` fund takes money from
    earmarked funds of the same jurisdiction (or of its city); every yuan keeps its source fund (FIFO lots)."""
    fund_ids = [item.fund_id for item in request.items]
    if len(set(fund_ids)) != len(fund_ids):
        raise Unprocessable("validation_error", "a fund appears twice in items",
                            errors=[{"field": "items", "message": "each fund_id may appear once"}])
    sources: list[Fund] = []
    for index, item in enumerate(request.items):
        fund = await get_fund(session, item.fund_id)
        if fund.jurisdiction_code not in (request.jurisdiction_code, city_of(request.jurisdiction_code)):
            raise Unprocessable("validation_error", f"fund {fund.id} belongs to jurisdiction {fund.jurisdiction_code}",
                                errors=[{"field": f"items.{index}.fund_id",
                                         "message": "must be a fund of this jurisdiction or of its city"}])
        sources.append(fund)
    balances = await ledger.lock_balances(session, [f.account_id for f in sources])
    for fund, item in zip(sources, request.items, strict=True):
        if balances[fund.account_id] < item.amount:
            raise insufficient_funds(fund.id, balances[fund.account_id], item.amount)
    total = sum((item.amount for item in request.items), Decimal("0.00"))
    if not fits(Decimal("0.00"), total):
        raise Unprocessable("validation_error", f"the items add up to {format_money(total)}, more than one fund holds",
                            errors=[{"field": "items", "message": "amounts must add up to at most "
                                     f"{format_money(MAX_BALANCE)}"}])
    integrated_id = uuid.uuid4()
    account_id = await ledger.open_fund_account(session, integrated_id, request.jurisdiction_code)
    integrated = Fund(id=integrated_id, jurisdiction_code=request.jurisdiction_code, year=request.year,
                      source="integrated", purpose=request.purpose, amount=total, account_id=account_id,
                      recorded_by=recorded_by, note=request.note)
    session.add(integrated)
    await session.flush()
    entry_id = await ledger.post_entry(
        session, kind="integration", reference=str(integrated_id), recorded_by=recorded_by, note=request.note,
        postings=[Posting(account_id, debit=total),
                  *(Posting(f.account_id, credit=i.amount) for f, i in zip(sources, request.items, strict=True))])
    for fund, item in zip(sources, request.items, strict=True):
        await ledger.add_lots(session, account_id, entry_id, await ledger.take_fifo(session, fund.account_id,
                                                                                      item.amount))
        session.add(FundComponent(integrated_fund_id=integrated_id, component_fund_id=fund.id, amount=item.amount))
    await session.flush()
    return integrated


async def allocate(session: AsyncSession, *, request: AllocationRequest,
                   recorded_by: str) -> tuple[Allocation, dict[int, Decimal], list[uuid.UUID]]:
    """Move money from a fund into the programme account of the fund's jurisdiction, then pay the payments waiting
    there for funds, oldest first; above the fund year's approval threshold, only record the request (maker-checker).
    Returns the allocation, the balances after it, and the payments released."""
    fund = await get_fund(session, request.from_fund_id)
    program = ledger.program_account(fund.jurisdiction_code, request.program)
    program_id = (await ledger.ensure_accounts(session, [program]))[program.code]
    balances = await ledger.lock_balances(session, [fund.account_id, program_id])
    if balances[fund.account_id] < request.amount:
        raise insufficient_funds(fund.id, balances[fund.account_id], request.amount)
    policy = await budgets.policy_for(session, year=fund.year)
    pending = rules.needs_second_approval(request.amount, policy.allocation_approval_threshold if policy else None)
    allocation = Allocation(id=uuid.uuid4(), fund_id=fund.id, jurisdiction_code=fund.jurisdiction_code,
                            program=request.program, account_id=program_id, amount=request.amount,
                            status=rules.PENDING_APPROVAL, recorded_by=recorded_by, note=request.note)
    if pending:
        session.add(allocation)
        await session.flush()
        return allocation, balances, []
    return await _move(session, allocation, fund, recorded_by=recorded_by, note=request.note)


async def decide(session: AsyncSession, *, allocation_id: uuid.UUID, decision: ApprovalDecision,
                 checker: str) -> tuple[Allocation, dict[int, Decimal], list[uuid.UUID]]:
    """The checker's decision on an allocation waiting for approval: approved, the money moves now (if the fund still
    holds it); refused, nothing moves. The maker cannot check its own allocation."""
    found = await get_allocation(session, allocation_id)
    fund = await get_fund(session, found.fund_id)
    balances = await ledger.lock_balances(session, [fund.account_id, found.account_id])
    allocation = (await session.exec(select(Allocation).where(col(Allocation.id) == allocation_id)  # type: ignore[call-overload]
                                     .with_for_update().execution_options(populate_existing=True))).scalar_one()
    if allocation.status != rules.PENDING_APPROVAL:
        raise Conflict("allocation_not_pending", f"allocation {allocation_id} is {allocation.status}, "
                       "not waiting for approval", current_status=allocation.status)
    if allocation.recorded_by == checker:
        raise AppError(403, "self_approval_forbidden",
                       f"allocation {allocation_id} was requested by {checker}: another client must approve it")
    allocation.decided_by, allocation.decided_at = checker, dt.datetime.now(dt.UTC)
    allocation.decision_note = decision.note
    if not decision.approved:
        allocation.status = rules.REJECTED
        session.add(allocation)
        await session.flush()
        return allocation, balances, []
    if balances[fund.account_id] < allocation.amount:
        raise insufficient_funds(fund.id, balances[fund.account_id], allocation.amount)
    why = f"requested by {allocation.recorded_by}, approved by {checker}"
    return await _move(session, allocation, fund, recorded_by=checker,
                       note=f"{why}: {decision.note}" if decision.note else why)


async def _move(session: AsyncSession, allocation: Allocation, fund: Fund, *, recorded_by: str,
                note: str | None) -> tuple[Allocation, dict[int, Decimal], list[uuid.UUID]]:
    """Post the allocation's entry (both accounts already locked), mark it allocated, publish `funds-allocated`
    (outbox, same transaction), and release the payments it now covers."""
    held = (await ledger.balances(session, [allocation.account_id]))[allocation.account_id]
    if not fits(held, allocation.amount):
        raise Unprocessable("validation_error", f"the {allocation.program} account of {allocation.jurisdiction_code} "
                            f"holds {format_money(held)}: {format_money(allocation.amount)} more would pass the "
                            "largest balance an account can hold",
                            errors=[{"field": "amount", "message": "the programme account cannot hold more than "
                                     f"{format_money(MAX_BALANCE)}"}])
    entry_id, _ = await ledger.transfer(
        session, kind="allocation", from_account=fund.account_id, to_account=allocation.account_id,
        amount=allocation.amount, recorded_by=recorded_by, note=note, reference=str(allocation.id))
    allocation.status, allocation.entry_id = rules.ALLOCATED, entry_id
    session.add(allocation)
    await session.flush()
    await published.funds_allocated(session, allocation, fund_id=fund.id, year=fund.year)
    released = await payments.pay_pending(session, account_id=allocation.account_id, recorded_by=recorded_by,
                                          note=f"released by allocation {allocation.id}")
    after = await ledger.lock_balances(session, [fund.account_id, allocation.account_id])
    return allocation, after, released


async def get_allocation(session: AsyncSession, allocation_id: uuid.UUID) -> Allocation:
    allocation = await session.get(Allocation, allocation_id)
    if allocation is None:
        raise NotFound("allocation_not_found", f"allocation {allocation_id} does not exist",
                       allocation_id=str(allocation_id))
    return allocation


async def allocations_with_status(session: AsyncSession, *, status: str,
                                  jurisdiction_code: str | None) -> list[Allocation]:
    """Allocations in one status, oldest first (the checker's queue is `pending_approval`)."""
    query = select(Allocation).where(col(Allocation.status) == status)
    if jurisdiction_code:
        query = query.where(col(Allocation.jurisdiction_code) == jurisdiction_code)
    return list((await session.exec(query.order_by(col(Allocation.created_at)).limit(500))).scalars().all())  # type: ignore[call-overload]


async def fund_balances(session: AsyncSession, funds: Sequence[Fund]) -> dict[int, Decimal]:
    rows = await session.exec(select(col(Account.id), col(Account.balance))  # type: ignore[call-overload]
                              .where(col(Account.id).in_([f.account_id for f in funds])))  # type: ignore[union-attr]
    return {account_id: balance for account_id, balance in rows.all()}


async def components(session: AsyncSession, fund_id: uuid.UUID) -> list[FundComponent]:
    return list((await session.exec(select(FundComponent)  # type: ignore[call-overload]
                                    .where(col(FundComponent.integrated_fund_id) == fund_id))).scalars().all())
