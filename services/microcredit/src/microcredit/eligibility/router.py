"""POST /microcredit/eligibility-checks (microcredit:eligibility): may this person borrow today?"""

from typing import Annotated

from fastapi import APIRouter

from fupin_kit.auth import Principal, scoped
from fupin_kit.db import SessionDep
from fupin_kit.ids import mask_id_number
from microcredit.clock import today
from microcredit.eligibility.models import EligibilityOut
from microcredit.eligibility.service import assess
from microcredit.loans.models import IdNumberIn
from microcredit.policies.models import format_percent

router = APIRouter(prefix="/microcredit", tags=["eligibility"])


@router.post("/eligibility-checks", response_model=EligibilityOut)
async def check_eligibility(body: IdNumberIn, session: SessionDep,
                            _: Annotated[Principal, scoped("microcredit:eligibility")]) -> EligibilityOut:
    assessment = await assess(session, id_number=body.id_number, on=today())
    return EligibilityOut(
        eligible=assessment.eligible, reasons=assessment.reasons,
        max_amount=assessment.policy.household_cap, available_amount=assessment.available_amount,
        max_term_months=assessment.policy.max_term_months,
        benchmark_rate=format_percent(assessment.policy.benchmark_rate),
        masked_id_number=mask_id_number(body.id_number))
