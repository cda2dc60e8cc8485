"""POST /microcredit/interest-claims (microcredit:loans): a bank's quarterly interest-subsidy claim."""

from fastapi import APIRouter, status

from fupin_kit.db import SessionDep
from microcredit.access import BankCode
from microcredit.claims import service
from microcredit.claims.models import ClaimItemOut, InterestClaimIn, InterestClaimOut

router = APIRouter(prefix="/microcredit", tags=["interest claims"])


@router.post("/interest-claims", status_code=status.HTTP_201_CREATED, response_model=InterestClaimOut)
async def file_claim(body: InterestClaimIn, session: SessionDep, bank_code: BankCode) -> InterestClaimOut:
    claim, items = await service.file_claim(session, bank_code=bank_code, request=body)
    return InterestClaimOut(
        claim_id=claim.claim_id, bank_code=claim.bank_code, period=claim.period, subsidy_total=claim.subsidy_total,
        items=[ClaimItemOut(loan_id=i.loan_id, claimed=i.claimed, subsidy=i.subsidy, days_active=i.days_active,
                            reason=i.reason) for i in items])
