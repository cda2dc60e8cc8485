"""Payments ordered by other services' events: paid from the county programme account, exactly once per business
reference, queued as `pending_funds` while the account is short and paid in the order of README "Payment order"
(the set-based work is in `settle`)."""

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from finance.events import published
from finance.funds.models import Fund
from finance.ledger import service as ledger
from finance.ledger.rules import Piece, Posting
from finance.payments import settle
from finance.payments.models import BenefitCancellation, Payment, SettlementReversal
from finance.payments.rules import WELFARE_PROGRAMS, PaymentOrder
from fupin_kit.errors import NotFound

log = logging.getLogger("fupin.finance.payments")


async def order_payments(session: AsyncSession, *, orders: Sequence[PaymentOrder], event_id: str,
                         recorded_by: str, note: str | None = None) -> list[settle.Row]:
    """Record each payment of one event (once per business reference) and pay what its account allows now
    (`settle.order_many`, README "Payment order"). Returns the payments recorded now; an order whose reference was
    already recorded (a replay, or the same business reference under another event id) is skipped."""
    return await settle.order_many(session, [settle.Ordered(event_id, orders, recorded_by, note)])


async def _lock_references(session: AsyncSession, references: Sequence[str]) -> None:
    """The advisory lock of `settle.lock_references`, for a reversal or cancellation of one reference."""
    for reference in sorted(set(references)):
        await session.exec(select(func.pg_advisory_xact_lock(  # type: ignore[call-overload]
            func.hashtextextended(f"finance-payment:{reference}", 0))))


async def pay_pending(session: AsyncSession, *, account_id: int, recorded_by: str, note: str | None) -> list[uuid.UUID]:
    """After money came into the account (an allocation, a reversal) or a waiting payment left it (cancelled): pay
    its waiting payments in the order of `rules.plan_payments` (README "Payment order"). The caller holds the
    account's row lock."""
    return await settle.pay_waiting(session, account_id=account_id, recorded_by=recorded_by, note=note)


async def reverse_settlement(session: AsyncSession, *, settlement_id: str, reason_code: str | None, event_id: str,
                             recorded_by: str) -> Payment | None:
    """`settlement-reversed`: a paid payment is reversed by a counter-entry (the money returns to the programme
    account with its lineage), a waiting one is just marked reversed; a reversal that comes before its settlement is
    remembered so the settlement is never paid."""
    await _lock_references(session, [settlement_id])
    await session.exec(insert(SettlementReversal).values(  # type: ignore[call-overload]
        settlement_id=settlement_id, reason_code=reason_code, event_id=event_id).on_conflict_do_nothing())
    found = (await session.exec(select(col(Payment.account_id)).where(  # type: ignore[call-overload]
        col(Payment.reference) == settlement_id, col(Payment.program) == "medical_assistance"))).scalar_one_or_none()
    if found is None:
        return None
    await ledger.lock_balances(session, [found])
    payment = (await session.exec(select(Payment).where(  # type: ignore[call-overload]
        col(Payment.reference) == settlement_id, col(Payment.program) == "medical_assistance")
        .with_for_update().execution_options(populate_existing=True))).scalar_one()
    if payment.status == "reversed":
        return payment
    if payment.status == "paid" and payment.entry_id is not None:
        payment.reversal_entry_id = await _counter_entry(session, payment, recorded_by=recorded_by,
                                                         note=f"settlement reversed: {reason_code}")
    payment.status = "reversed"
    payment.reversed_at = dt.datetime.now(dt.UTC)
    session.add(payment)
    await session.flush()
    await published.payment_completed(session, payment)  # reversed
    # money came back, or a waiting payment (perhaps a barrier) left the queue: others may be paid now
    await pay_pending(session, account_id=payment.account_id, recorded_by=recorded_by,
                      note=f"released by the reversal of settlement {settlement_id}")
    return payment


async def cancel_benefit(session: AsyncSession, *, benefit_id: str, reason_code: str | None, event_id: str,
                         recorded_by: str) -> Payment | None:
    """`benefit-cancelled` (contract v2 §5): a payment still waiting for funds is reversed (nothing moves); a paid one
    stays paid (the money reached the household). A cancellation that comes before its `benefit-due` is remembered
    so the benefit is recorded reversed and never paid."""
    await _lock_references(session, [benefit_id])
    await session.exec(insert(BenefitCancellation).values(  # type: ignore[call-overload]
        benefit_id=benefit_id, reason_code=reason_code, event_id=event_id).on_conflict_do_nothing())
    found = (await session.exec(select(col(Payment.account_id)).where(  # type: ignore[call-overload]
        col(Payment.reference) == benefit_id, col(Payment.program).in_(WELFARE_PROGRAMS)))).scalar_one_or_none()  # type: ignore[attr-defined]
    if found is None:
        return None
    await ledger.lock_balances(session, [found])
    payment = (await session.exec(select(Payment).where(  # type: ignore[call-overload]
        col(Payment.reference) == benefit_id, col(Payment.program).in_(WELFARE_PROGRAMS))  # type: ignore[attr-defined]
        .with_for_update().execution_options(populate_existing=True))).scalar_one()
    if payment.status != "pending_funds":
        log.info("benefit %s cancelled but its payment is %s: left as it is", benefit_id, payment.status)
        return payment
    payment.status = "reversed"
    payment.reversed_at = dt.datetime.now(dt.UTC)
    session.add(payment)
    await session.flush()
    await published.payment_completed(session, payment)  # reversed
    await pay_pending(session, account_id=payment.account_id, recorded_by=recorded_by,
                      note=f"released by the cancellation of benefit {benefit_id}")
    return payment


async def _counter_entry(session: AsyncSession, payment: Payment, *, recorded_by: str, note: str) -> int:
    assert payment.entry_id is not None
    entry_id = await ledger.post_entry(
        session, kind="reversal", reference=str(payment.id), recorded_by=recorded_by, note=note,
        postings=[Posting(payment.account_id, debit=payment.amount),
                  Posting(payment.payee_account_id, credit=payment.amount)])
    pieces = await ledger.take_entry_lots(session, payment.payee_account_id, payment.entry_id)
    await ledger.add_lots(session, payment.account_id, entry_id, pieces)
    return entry_id


async def payments_for(session: AsyncSession, *, reference: str) -> list[Payment]:
    return list((await session.exec(select(Payment).where(col(Payment.reference) == reference)  # type: ignore[call-overload]
                                    .order_by(col(Payment.seq)))).scalars().all())


async def entries_of(session: AsyncSession, reference: str) -> dict[int, set[int]]:
    """For a payment id: its payment and reversal entries, each with the accounts whose lines are the payment's."""
    try:
        payment_id = uuid.UUID(reference)
    except ValueError:
        return {}
    payment = await session.get(Payment, payment_id)
    if payment is None:
        return {}
    return {entry_id: {payment.account_id, payment.payee_account_id}
            for entry_id in (payment.entry_id, payment.reversal_entry_id) if entry_id is not None}


async def get_payment(session: AsyncSession, payment_id: uuid.UUID) -> Payment:
    payment = await session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("payment_not_found", f"payment {payment_id} does not exist")
    return payment


async def lineage(session: AsyncSession, payment: Payment) -> list[Piece]:
    """The source funds the payment's money came from (empty while it waits for funds)."""
    if payment.entry_id is None:
        return []
    return await ledger.entry_pieces(session, payment.entry_id, payment.payee_account_id)


async def lineage_sources(session: AsyncSession, payment: Payment) -> list[tuple[Fund, Decimal]]:
    """`lineage` with each source fund's row: (fund, amount) in lineage order."""
    pieces = await lineage(session, payment)
    if not pieces:
        return []
    funds = {f.id: f for f in (await session.exec(select(Fund).where(  # type: ignore[call-overload]
        col(Fund.id).in_([p.source_fund_id for p in pieces])))).scalars().all()}  # type: ignore[attr-defined]
    return [(funds[p.source_fund_id], p.amount) for p in pieces]


async def pending_total(session: AsyncSession, account_ids: list[int]) -> dict[int, Decimal]:
    rows = await session.exec(select(col(Payment.account_id), func.sum(col(Payment.amount)))  # type: ignore[call-overload]
                              .where(col(Payment.account_id).in_(account_ids), col(Payment.status) == "pending_funds")  # type: ignore[attr-defined]
                              .group_by(col(Payment.account_id)))
    return {account_id: total for account_id, total in rows.all()}

