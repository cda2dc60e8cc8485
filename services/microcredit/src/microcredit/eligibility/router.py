"""POST /microcredit/eligibility-checks (microcredit:eligibility): may this person borrow today?"""


from fastapi import APIRouter, Request, Response

from fupin_kit.clock import today
from fupin_kit.db import read_connection
from fupin_kit.ids import mask_id_number
from fupin_kit.pseudonyms import PseudonymKey
from microcredit.access import EligibilityChecker
from microcredit.eligibility.models import EligibilityOut
from microcredit.eligibility.service import verdict
from microcredit.loans.models import IdNumberIn
from microcredit.policies.models import format_percent

router = APIRouter(prefix="/microcredit", tags=["eligibility"])


@router.post("/eligibility-checks", response_model=EligibilityOut)
async def check_eligibility(body: IdNumberIn, request: Request, key: PseudonymKey, _: EligibilityChecker) -> Response:
    # A read: no session and no transaction of its own, unless an Idempotency-Key's transaction holds the request.
    async with read_connection(request) as conn:
        assessment = await verdict(conn, id_number=body.id_number, on=today(), pseudonym_key=key)
    answer = EligibilityOut(
        eligible=assessment.eligible, reasons=assessment.reasons,
        max_amount=assessment.policy.household_cap, available_amount=assessment.available_amount,
        max_term_months=assessment.policy.max_term_months,
        benchmark_rate=format_percent(assessment.policy.benchmark_rate),
        masked_id_number=mask_id_number(body.id_number))
    # the model's own JSON, the bytes FastAPI would send, without validating the model a second time
    return Response(answer.model_dump_json(), media_type="application/json")
