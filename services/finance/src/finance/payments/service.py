"""Payments ordered by other services' events: paid from the county programme account, exactly once per business
reference, queued as `pending_funds` while the account is short and paid oldest first when money arrives."""

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from finance.config import COMPONENT
from finance.ledger import service as ledger
from finance.ledger.rules import Piece, Posting
from finance.payments import rules
from finance.payments.models import BenefitCancellation, Payment, PaymentQueue, SettlementReversal
from finance.payments.rules import WELFARE_PROGRAMS, PaymentOrder
from fupin_events.payloads import PaymentCompleted
from fupin_kit.errors import NotFound
from fupin_kit.events import outbox

log = logging.getLogger("fupin.finance.payments")
PAYMENT_COMPLETED = "payment-completed"


async def order_payments(session: AsyncSession, *, orders: Sequence[PaymentOrder], event_id: str,
                         recorded_by: str, note: str | None = None) -> list[Payment]:
    """Record each payment (once per business reference) and pay whatever its account now covers, oldest first.

    All programme accounts involved are locked up front in id order (one claim may pay from several counties).
    Returns the payments recorded now; an order whose reference was already recorded (a replay, or the same
    business reference under another event id) is skipped.
    """
    if not orders:
        return []
    programs = {o: ledger.program_account(o.county_code, o.program) for o in orders}
    payees = {o: ledger.payee_account(o.payee) for o in orders}
    await _lock_references(session, [o.reference for o in orders if _cancellable(o.program)])
    accounts = await ledger.ensure_accounts(session, [*programs.values(), *payees.values()])
    program_ids = sorted({accounts[p.code] for p in programs.values()})
    balances = await ledger.lock_balances(session, program_ids)
    paid_out = await _paid_out(session, program_ids)
    recorded: list[Payment] = []
    for order in orders:
        account_id = accounts[programs[order].code]
        payment = await _record(session, order, event_id=event_id, account_id=account_id,
                                payee_account_id=accounts[payees[order].code],
                                barrier_at=rules.barrier_at(paid_out[account_id], order.amount))
        if payment is not None:
            recorded.append(payment)
    for account_id in program_ids:
        # Every older payment still waiting was found unpayable when the balance last changed (payments only take
        # money out): only the new ones are candidates, behind any barrier among the older ones.
        new = [p for p in recorded if p.account_id == account_id and p.status == "pending_funds"]
        if new:
            await _settle(session, account_id, new, balance=balances[account_id], paid_out=paid_out[account_id],
                          older_than=new[0].seq, recorded_by=recorded_by, note=note)
    return recorded


async def _record(session: AsyncSession, order: PaymentOrder, *, event_id: str, account_id: int,
                  payee_account_id: int, barrier_at: Decimal) -> Payment | None:
    reversed_early = await _cancelled_before(session, order)
    payment = (await session.exec(insert(Payment).values(  # type: ignore[call-overload]
        id=uuid.uuid4(), reference=order.reference, item_reference=order.item_reference, program=order.program,
        county_code=order.county_code, village_code=order.village_code, payee=order.payee, amount=order.amount,
        status="reversed" if reversed_early else "pending_funds", account_id=account_id,
        payee_account_id=payee_account_id, event_id=event_id, reversed_at=func.now() if reversed_early else None,
        barrier_at=None if reversed_early else barrier_at,
    ).on_conflict_do_nothing(constraint="uq_payments_business_reference").returning(Payment))).scalars().first()
    if payment is None:
        log.info("payment for %s %s already recorded; nothing to do", order.program, order.reference)
        return None
    if reversed_early:
        await _announce(session, payment)
    return payment


def _cancellable(program: str) -> bool:
    """Programmes whose payments a later event may cancel (a settlement reversal, a benefit cancellation)."""
    return program == "medical_assistance" or program in WELFARE_PROGRAMS


async def _lock_references(session: AsyncSession, references: Sequence[str]) -> None:
    """Serialize the recording of a cancellable payment with its cancellation (they travel on different topics and
    may be handled at the same moment by two replicas): a transaction-scoped advisory lock per business reference,
    always taken before any account lock, in sorted order."""
    for reference in sorted(set(references)):
        await session.exec(select(func.pg_advisory_xact_lock(  # type: ignore[call-overload]
            func.hashtextextended(f"finance-payment:{reference}", 0))))


async def _cancelled_before(session: AsyncSession, order: PaymentOrder) -> bool:
    if order.program == "medical_assistance":
        return await session.get(SettlementReversal, order.reference) is not None
    if order.program in WELFARE_PROGRAMS:
        return await session.get(BenefitCancellation, order.reference) is not None
    return False


async def pay_pending(session: AsyncSession, *, account_id: int, recorded_by: str, note: str | None) -> list[uuid.UUID]:
    """After money came into the account (an allocation, a reversal) or a waiting payment left it (cancelled): pay
    its waiting payments in the order of `rules.plan_payments` (README "Payment order")."""
    balance = (await ledger.lock_balances(session, [account_id]))[account_id]
    paid_out = (await _paid_out(session, [account_id]))[account_id]
    waiting = list((await session.exec(  # type: ignore[call-overload]
        select(Payment).where(col(Payment.account_id) == account_id, col(Payment.status) == "pending_funds")
        .order_by(col(Payment.seq)).with_for_update())).scalars().all())
    paid = await _settle(session, account_id, waiting, balance=balance, paid_out=paid_out, older_than=None,
                         recorded_by=recorded_by, note=note)
    return [p.id for p in paid]


async def _paid_out(session: AsyncSession, account_ids: Sequence[int]) -> dict[int, Decimal]:
    """Each account's paid_out counter (its queue row created on first use); the caller holds the account locks."""
    statement = insert(PaymentQueue).values([{"account_id": a, "paid_out": 0} for a in sorted(set(account_ids))])
    statement = statement.on_conflict_do_update(index_elements=["account_id"],
                                                set_={"account_id": statement.excluded.account_id})
    rows = await session.exec(statement.returning(  # type: ignore[call-overload]
        col(PaymentQueue.account_id), col(PaymentQueue.paid_out)))
    return {account_id: paid_out for account_id, paid_out in rows.all()}


async def _settle(session: AsyncSession, account_id: int, candidates: Sequence[Payment], *, balance: Decimal,
                  paid_out: Decimal, older_than: int | None, recorded_by: str, note: str | None) -> list[Payment]:
    """Pay the candidates (waiting, oldest first) that `rules.plan_payments` chooses; waiting payments older than
    `older_than` (not candidates) count only as possible barriers."""
    older_barrier = None
    if older_than is not None:
        older_barrier = (await session.exec(select(func.min(col(Payment.barrier_at))).where(  # type: ignore[call-overload]
            col(Payment.account_id) == account_id, col(Payment.status) == "pending_funds",
            col(Payment.seq) < older_than))).scalar_one_or_none()
    chosen = rules.plan_payments(balance, paid_out, [
        rules.Waiting(p, p.amount, p.barrier_at if p.barrier_at is not None else p.amount) for p in candidates],
        older_barrier=older_barrier)
    for payment in chosen:
        await _pay(session, payment, recorded_by=recorded_by, note=note)
    total = sum((p.amount for p in chosen), Decimal("0"))
    if total:
        await session.exec(update(PaymentQueue).where(col(PaymentQueue.account_id) == account_id)  # type: ignore[call-overload]
                           .values(paid_out=col(PaymentQueue.paid_out) + total))
    return chosen


async def _pay(session: AsyncSession, payment: Payment, *, recorded_by: str, note: str | None) -> None:
    if payment.amount > 0:
        entry_id, _ = await ledger.transfer(
            session, kind="payment", from_account=payment.account_id, to_account=payment.payee_account_id,
            amount=payment.amount, recorded_by=recorded_by, note=note, reference=str(payment.id))
        payment.entry_id = entry_id
    payment.status = "paid"
    payment.paid_at = dt.datetime.now(dt.UTC)
    session.add(payment)
    await session.flush()
    await _announce(session, payment)


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
    await _announce(session, payment)
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
    await _announce(session, payment)
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


async def _announce(session: AsyncSession, payment: Payment) -> None:
    """`payment-completed` for every paid and every reversed payment (through the outbox)."""
    completed = PaymentCompleted(
        payment_id=str(payment.id), reference=payment.reference, program=payment.program, payee=payment.payee,
        amount=payment.amount, status="paid" if payment.status == "paid" else "reversed",
        item_reference=payment.item_reference or None, county_code=payment.county_code,
        village_code=payment.village_code, paid_at=payment.paid_at)
    await outbox.enqueue(session, source=COMPONENT, topic=PAYMENT_COMPLETED, subject=payment.reference,
                         data=completed.model_dump(mode="json"))


async def payments_for(session: AsyncSession, *, reference: str) -> list[Payment]:
    return list((await session.exec(select(Payment).where(col(Payment.reference) == reference)  # type: ignore[call-overload]
                                    .order_by(col(Payment.seq)))).scalars().all())


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


async def pending_total(session: AsyncSession, account_ids: list[int]) -> dict[int, Decimal]:
    rows = await session.exec(select(col(Payment.account_id), func.sum(col(Payment.amount)))  # type: ignore[call-overload]
                              .where(col(Payment.account_id).in_(account_ids), col(Payment.status) == "pending_funds")  # type: ignore[attr-defined]
                              .group_by(col(Payment.account_id)))
    return {account_id: total for account_id, total in rows.all()}

