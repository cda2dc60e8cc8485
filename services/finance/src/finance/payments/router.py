"""Payments by business reference, and where a payment's money came from."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from finance.access import FinanceReader
from finance.payments import service
from finance.payments.models import LineageSource, Payment, PaymentLineage, PaymentPublic
from fupin_kit.db import SessionDep
from fupin_kit.text import NoNul

router = APIRouter(prefix="/finance/payments", tags=["payments"])


def public(payment: Payment) -> PaymentPublic:
    return PaymentPublic(payment_id=payment.id, reference=payment.reference,
                         item_reference=payment.item_reference or None, program=payment.program,
                         payee=payment.payee, amount=payment.amount, status=payment.status,
                         county_code=payment.county_code, village_code=payment.village_code,
                         created_at=payment.created_at, paid_at=payment.paid_at, reversed_at=payment.reversed_at)


@router.get("", response_model=list[PaymentPublic])
async def list_payments(reference: Annotated[str, Query(min_length=1, max_length=100), NoNul], session: SessionDep,
                        _: FinanceReader) -> list[PaymentPublic]:
    """The payments for a business reference: a grant_id, settlement_id, claim_id, loan_id or benefit_id."""
    return [public(p) for p in await service.payments_for(session, reference=reference)]


@router.get("/{payment_id}/lineage", response_model=PaymentLineage)
async def payment_lineage(payment_id: uuid.UUID, session: SessionDep, _: FinanceReader) -> PaymentLineage:
    """Which received funds, and how much of each, the payment was paid from (to the fen)."""
    payment = await service.get_payment(session, payment_id)
    sources = [LineageSource(fund_id=fund.id, source=fund.source, purpose=fund.purpose,
                             jurisdiction_code=fund.jurisdiction_code, year=fund.year, amount=amount)
               for fund, amount in await service.lineage_sources(session, payment)]
    return PaymentLineage(payment_id=payment.id, reference=payment.reference, program=payment.program,
                          amount=payment.amount, status=payment.status, sources=sources)
