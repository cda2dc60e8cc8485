"""Quarterly interest-subsidy claims (contract §2): each item checked and computed on its own.

Days active: from the disbursement day inclusive to the day the loan was repaid to zero or declared in default,
exclusive, within the quarter. Principal outstanding: the balance at the end of each of those days (a repayment
dated d counts from day d), so the subsidy is Σ balance × min(rate, benchmark) × 1 / 360 over the active days,
rounded half-up to the fen once per item and capped at the claimed interest. The benchmark is the policy of the
quarter's year. A quarter can be claimed once it has ended.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.clock import today
from microcredit.claims.models import ClaimItemIn, InterestClaim, InterestClaimIn, InterestClaimItem
from microcredit.events import published
from microcredit.loans.models import Loan, Repayment
from microcredit.loans.service import invalid
from microcredit.policies.service import policy_for
from microcredit.rules import ZERO, balance_segments, days_active, interest_subsidy, quarter_bounds


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def _bank_loans_locked(session: AsyncSession, *, bank_code: str,
                             items: Sequence[ClaimItemIn]) -> dict[uuid.UUID, Loan]:
    """The bank's loans named in the claim, locked in id order so concurrent claims on a loan queue up."""
    ids = {key for item in items if (key := _uuid_or_none(item.loan_id)) is not None}
    if not ids:
        return {}
    loans = (await session.exec(select(Loan).where(col(Loan.loan_id).in_(ids), Loan.bank_code == bank_code)
                                .order_by(col(Loan.loan_id)).with_for_update())).all()
    return {loan.loan_id: loan for loan in loans}


async def _already_claimed(session: AsyncSession, *, period: str, loan_ids: Sequence[uuid.UUID]) -> set[str]:
    rows = await session.exec(select(InterestClaimItem.loan_id).where(
        InterestClaimItem.period == period, col(InterestClaimItem.reason).is_(None),
        col(InterestClaimItem.loan_id).in_([str(i) for i in loan_ids])))
    return set(rows.all())


async def _repayments(session: AsyncSession, loan_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Repayment]]:
    by_loan: dict[uuid.UUID, list[Repayment]] = defaultdict(list)
    for repayment in (await session.exec(select(Repayment).where(col(Repayment.loan_id).in_(loan_ids)))).all():
        by_loan[repayment.loan_id].append(repayment)
    return by_loan


async def file_claim(session: AsyncSession, *, bank_code: str,
                     request: InterestClaimIn) -> tuple[InterestClaim, list[InterestClaimItem]]:
    start, end = quarter_bounds(request.period)
    if end > today():
        raise invalid("period", "the quarter has not ended yet")
    loans = await _bank_loans_locked(session, bank_code=bank_code, items=request.items)
    claimed = await _already_claimed(session, period=request.period, loan_ids=list(loans))
    repayments = await _repayments(session, list(loans))
    policy, _ = await policy_for(session, year=start.year)
    claim = InterestClaim(bank_code=bank_code, period=request.period, subsidy_total=ZERO)
    session.add(claim)
    await session.flush()
    items, paid = [], []
    for position, item in enumerate(request.items):
        key = _uuid_or_none(item.loan_id)
        loan = loans.get(key) if key is not None else None
        row = InterestClaimItem(claim_id=claim.claim_id, position=position, period=request.period,
                                loan_id=str(loan.loan_id) if loan else item.loan_id, claimed=item.interest,
                                subsidy=ZERO)
        if loan is None:
            row.reason = "loan_not_found"
        elif row.loan_id in claimed:
            row.reason = "already_claimed"
        else:
            segments = balance_segments(
                amount=loan.amount, disbursed_on=loan.disbursed_on, closed_on=loan.closed_on,
                repayments=[(r.paid_on, r.amount) for r in repayments[loan.loan_id]], start=start, end=end)
            row.days_active = days_active(segments)
            if not segments:
                row.reason = "not_active"
            else:
                row.subsidy = interest_subsidy(segments=segments, annual_rate=loan.annual_rate,
                                               benchmark_rate=policy.benchmark_rate, claimed=item.interest)
                claimed.add(row.loan_id)
                if row.subsidy > ZERO:
                    paid.append((row, loan))
        items.append(row)
    claim.subsidy_total = sum((row.subsidy for row in items), Decimal("0.00"))
    session.add_all([claim, *items])
    await session.flush()
    if paid:
        await published.interest_subsidy_claimed(session, claim=claim, paid=paid)
    return claim, items
