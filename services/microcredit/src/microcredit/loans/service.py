"""Granting loans under the household cap, repayments and defaults (contract §2)."""

import datetime as dt
import uuid

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.clock import today
from fupin_kit.errors import AppError, Conflict, NotFound, Unprocessable, field_errors
from fupin_kit.ids import mask_id_number, pseudonym
from fupin_kit.money import format_money
from microcredit.eligibility.service import assess
from microcredit.events import published
from microcredit.loans.models import DefaultIn, Loan, LoanIn, LoanOut, Repayment, RepaymentIn, RepaymentOut
from microcredit.policies.service import policy_for
from microcredit.rules import ZERO, maturity_date, risk_compensation


def invalid(field: str, message: str) -> AppError:
    return AppError(422, "validation_error", f"invalid request: {field} {message}",
                    errors=field_errors(field, message))


def loan_not_found() -> NotFound:
    return NotFound("loan_not_found", "no such loan for this caller")


async def grant_loan(session: AsyncSession, *, bank_code: str, request: LoanIn, pseudonym_key: str) -> Loan:
    """Record a loan the bank granted; the household row stays locked while its outstanding principal is summed."""
    if request.disbursed_on > today():
        raise invalid("disbursed_on", "must not be in the future")
    assessment = await assess(session, id_number=request.id_number, pseudonym_key=pseudonym_key,
                              on=request.disbursed_on, lock_household=True)
    if request.term_months > assessment.policy.max_term_months:
        raise Unprocessable("term_too_long", f"the term may be at most {assessment.policy.max_term_months} months",
                            max_term_months=assessment.policy.max_term_months)
    if not assessment.eligible:
        raise Unprocessable("not_eligible", "the person may not borrow: " + ", ".join(assessment.reasons),
                            reasons=assessment.reasons)
    if request.amount > assessment.available_amount:
        available = format_money(assessment.available_amount)
        raise Unprocessable("amount_over_available", f"the household may borrow at most {available} more",
                            available_amount=available)
    assert assessment.household is not None
    loan = Loan(bank_code=bank_code, person_ref=pseudonym(request.id_number, pseudonym_key),
                household_id=assessment.household.household_id, county_code=assessment.household.county_code,
                village_code=assessment.household.village_code, masked_id_number=mask_id_number(request.id_number),
                amount=request.amount, principal_outstanding=request.amount, term_months=request.term_months,
                annual_rate=request.annual_rate, disbursed_on=request.disbursed_on,
                maturity_date=maturity_date(request.disbursed_on, request.term_months), purpose=request.purpose)
    session.add(loan)
    await session.flush()
    await published.loan_disbursed(session, loan=loan)
    return loan


async def loan_of(session: AsyncSession, *, loan_id: str, bank_code: str | None, lock: bool = False) -> Loan:
    """The loan if `bank_code` owns it (None: any bank's, for microcredit:read); otherwise 404 loan_not_found."""
    try:
        key = uuid.UUID(loan_id)
    except ValueError:
        raise loan_not_found() from None
    query = select(Loan).where(Loan.loan_id == key)
    if bank_code is not None:
        query = query.where(Loan.bank_code == bank_code)
    loan = (await session.exec(query.with_for_update() if lock else query)).first()
    if loan is None:
        raise loan_not_found()
    return loan


async def _last_repayment_day(session: AsyncSession, loan: Loan) -> dt.date:
    last = (await session.exec(select(func.max(Repayment.paid_on)).where(Repayment.loan_id == loan.loan_id))).one()
    return last or loan.disbursed_on


async def _check_event_day(session: AsyncSession, loan: Loan, field: str, day: dt.date) -> None:
    """Repayments and defaults are dated between the loan's last event and today."""
    if loan.status != "active":
        raise Conflict("loan_not_active", f"the loan is {loan.status}", status_of_loan=loan.status)
    if day > today():
        raise invalid(field, "must not be in the future")
    if day < await _last_repayment_day(session, loan):
        raise invalid(field, "must not be before the disbursement or the last repayment")


async def repay(session: AsyncSession, *, loan: Loan, request: RepaymentIn) -> Loan:
    """Lower the outstanding principal (the loan row is locked by the caller); at zero the loan is repaid."""
    if loan.status != "repaid":  # a repaid loan owes nothing: any repayment is an overpayment
        await _check_event_day(session, loan, "paid_on", request.paid_on)
    if request.amount > loan.principal_outstanding:
        outstanding = format_money(loan.principal_outstanding)
        raise Unprocessable("overpayment", f"the principal outstanding is only {outstanding}",
                            principal_outstanding=outstanding)
    loan.principal_outstanding -= request.amount
    if loan.principal_outstanding == ZERO:
        loan.status, loan.closed_on = "repaid", request.paid_on
    session.add(Repayment(loan_id=loan.loan_id, amount=request.amount, paid_on=request.paid_on,
                          principal_after=loan.principal_outstanding))
    session.add(loan)
    await session.flush()
    return loan


async def declare_default(session: AsyncSession, *, loan: Loan, request: DefaultIn) -> Loan:
    """Close the loan as defaulted and claim the year's share of the unpaid principal from the risk fund."""
    await _check_event_day(session, loan, "declared_on", request.declared_on)
    if request.unpaid_principal > loan.principal_outstanding:
        raise invalid("unpaid_principal",
                      f"must not exceed the principal outstanding {format_money(loan.principal_outstanding)}")
    policy, _ = await policy_for(session, year=request.declared_on.year)
    loan.status, loan.closed_on = "defaulted", request.declared_on
    loan.unpaid_principal = request.unpaid_principal
    loan.compensation = risk_compensation(request.unpaid_principal, policy)
    session.add(loan)
    await session.flush()
    await published.risk_compensation_claimed(session, loan=loan)
    return loan


async def loan_view(session: AsyncSession, *, loan: Loan) -> LoanOut:
    repayments = (await session.exec(select(Repayment).where(Repayment.loan_id == loan.loan_id)
                                     .order_by(col(Repayment.paid_on), col(Repayment.created_at)))).all()
    return LoanOut(
        loan_id=loan.loan_id, status=loan.status,
        bank_code=loan.bank_code, masked_id_number=loan.masked_id_number, amount=loan.amount,
        principal_outstanding=loan.principal_outstanding, term_months=loan.term_months, annual_rate=loan.annual_rate,
        disbursed_on=loan.disbursed_on, maturity_date=loan.maturity_date, purpose=loan.purpose,
        repaid_on=loan.closed_on if loan.status == "repaid" else None,
        defaulted_on=loan.closed_on if loan.status == "defaulted" else None,
        unpaid_principal=loan.unpaid_principal, compensation=loan.compensation,
        repayments=[RepaymentOut(repayment_id=r.repayment_id, amount=r.amount, paid_on=r.paid_on,
                                 principal_after=r.principal_after) for r in repayments])
