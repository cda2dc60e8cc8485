"""Loans (microcredit:loans for the owning bank; microcredit:read for the government's reads)."""


from fastapi import APIRouter, status

from fupin_kit.db import SessionDep
from fupin_kit.pseudonyms import PseudonymKey
from microcredit.access import BankCode, LoanReader
from microcredit.loans import service
from microcredit.loans.models import DefaultIn, LoanIn, LoanOut, RepaymentIn

router = APIRouter(prefix="/microcredit/loans", tags=["loans"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=LoanOut)
async def grant_loan(body: LoanIn, session: SessionDep, bank_code: BankCode, key: PseudonymKey) -> LoanOut:
    loan = await service.grant_loan(session, bank_code=bank_code, request=body, pseudonym_key=key)
    return await service.loan_view(session, loan=loan)


@router.get("/{loan_id}", response_model=LoanOut)
async def read_loan(loan_id: str, session: SessionDep,
                    principal: LoanReader) -> LoanOut:
    owner = None if principal.has("microcredit:read") else (principal.bank_code or "")
    loan = await service.loan_of(session, loan_id=loan_id, bank_code=owner)
    return await service.loan_view(session, loan=loan)


@router.post("/{loan_id}/repayments", response_model=LoanOut)
async def repay(loan_id: str, body: RepaymentIn, session: SessionDep, bank_code: BankCode) -> LoanOut:
    loan = await service.loan_of(session, loan_id=loan_id, bank_code=bank_code, lock=True)
    await service.repay(session, loan=loan, request=body)
    return await service.loan_view(session, loan=loan)


@router.post("/{loan_id}/default", response_model=LoanOut)
async def declare_default(loan_id: str, body: DefaultIn, session: SessionDep, bank_code: BankCode) -> LoanOut:
    loan = await service.loan_of(session, loan_id=loan_id, bank_code=bank_code, lock=True)
    await service.declare_default(session, loan=loan, request=body)
    return await service.loan_view(session, loan=loan)
