"""Annual reviews, exit, return and removal of a household."""

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from fupin_kit.db import SessionDep
from fupin_kit.errors import problem
from registry.access import DivisionWriter as Writer
from registry.exits import service
from registry.exits.models import AnnualReviewIn, AnnualReviewPublic, ExitDecision, ExitDecisionPublic, ExitIn
from registry.exits.rules import per_capita_income
from registry.households import service as households
from registry.households.public import household_public
from registry.households.schemas import HouseholdPublic, Indicators, Reason
from registry.scope import HouseholdInScope

# An official acts only on households of their division subtree (another is 404 household_not_found).
router = APIRouter(prefix="/registry/households/{household_id}", tags=["exit"], dependencies=[HouseholdInScope])


class ExitAnswer(HouseholdPublic):
    decision: ExitDecisionPublic


def _decision_public(decision: ExitDecision) -> ExitDecisionPublic:
    return ExitDecisionPublic(
        decision_id=decision.id, certified=decision.certified, unmet=list(decision.unmet),
        income_year=decision.income_year, annual_income=decision.annual_income,
        member_count=decision.member_count, per_capita_income=decision.per_capita_income,
        poverty_line=decision.poverty_line, policy_source=decision.policy_source,
        indicators=Indicators(**decision.indicators), decided_at=decision.decided_at)


@router.post("/annual-reviews", status_code=201, response_model=AnnualReviewPublic)
async def record_review(household_id: uuid.UUID, body: AnnualReviewIn, session: SessionDep,
                        principal: Writer) -> AnnualReviewPublic:
    review, _ = await service.record_review(session, household_id=household_id, body=body,
                                            actor=principal.client_id)
    members = len(await households.members_of(session, household_id))
    return AnnualReviewPublic(review_id=review.id, household_id=household_id, income_year=review.income_year,
                              annual_income=review.annual_income,
                              per_capita_income=per_capita_income(review.annual_income, members),
                              indicators=Indicators(**review.indicators), reviewed_at=review.reviewed_at)


@router.post("/exit", response_model=ExitAnswer, responses={422: {"description": "exit_standard_not_met"}})
async def certify_exit(household_id: uuid.UUID, session: SessionDep, principal: Writer,
                       body: ExitIn | None = None) -> ExitAnswer | JSONResponse:
    decision, household = await service.decide_exit(session, household_id=household_id, actor=principal.client_id)
    if not decision.certified:
        # Answered, not raised: the session commits, so the refused decision is kept with its inputs.
        return problem(422, "exit_standard_not_met", f"the exit standard is not met: {', '.join(decision.unmet)}",
                       unmet=list(decision.unmet), decision=_decision_public(decision).model_dump(mode="json"))
    answer = await household_public(session, household)
    return ExitAnswer(**answer.model_dump(), decision=_decision_public(decision))


@router.post("/return", response_model=HouseholdPublic)
async def return_to_poverty(household_id: uuid.UUID, body: Reason, session: SessionDep,
                            principal: Writer) -> HouseholdPublic:
    household = await service.return_to_poverty(session, household_id=household_id, reason=body.reason,
                                                actor=principal.client_id)
    return await household_public(session, household)


@router.post("/removal", response_model=HouseholdPublic)
async def remove(household_id: uuid.UUID, body: Reason, session: SessionDep, principal: Writer) -> HouseholdPublic:
    household = await service.remove(session, household_id=household_id, reason=body.reason,
                                     actor=principal.client_id)
    return await household_public(session, household)
