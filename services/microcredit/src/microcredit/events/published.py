"""The events microcredit publishes (docs/conventions.md "Money events"), built with fupin_events' models; ids, codes,
dates and amounts only."""

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import InterestSubsidyClaimed, LoanDisbursed, RiskCompensationClaimed, SubsidyItem
from fupin_kit.events.outbox import enqueue
from microcredit.claims.models import InterestClaim, InterestClaimItem
from microcredit.config import COMPONENT
from microcredit.loans.models import Loan


async def loan_disbursed(session: AsyncSession, *, loan: Loan) -> None:
    """`village_code`, `annual_rate` and `maturity_date` are additions to the conventions' payload."""
    payload = LoanDisbursed.model_validate(dict(
        loan_id=str(loan.loan_id), bank_code=loan.bank_code, person_ref=loan.person_ref,
        household_id=loan.household_id, county_code=loan.county_code, village_code=loan.village_code,
        amount=loan.amount, term_months=loan.term_months, annual_rate=loan.annual_rate,
        disbursed_on=loan.disbursed_on, maturity_date=loan.maturity_date))
    await enqueue(session, source=COMPONENT, topic="loan-disbursed", subject=str(loan.loan_id),
                  data=payload.model_dump(mode="json"))


async def risk_compensation_claimed(session: AsyncSession, *, loan: Loan) -> None:
    """`household_id`, `unpaid_principal` and `declared_on` are additions to the conventions' payload."""
    payload = RiskCompensationClaimed.model_validate(dict(
        loan_id=str(loan.loan_id), bank_code=loan.bank_code, household_id=loan.household_id,
        county_code=loan.county_code, village_code=loan.village_code, compensation=loan.compensation,
        unpaid_principal=loan.unpaid_principal, declared_on=loan.closed_on))
    await enqueue(session, source=COMPONENT, topic="risk-compensation-claimed", subject=str(loan.loan_id),
                  data=payload.model_dump(mode="json"))


async def interest_subsidy_claimed(session: AsyncSession, *, claim: InterestClaim,
                                   paid: Sequence[tuple[InterestClaimItem, Loan]]) -> None:
    """One event per claim; its items are the subsidised ones (subsidy above zero), with their loan's divisions."""
    payload = InterestSubsidyClaimed(
        claim_id=str(claim.claim_id), bank_code=claim.bank_code, period=claim.period,
        subsidy_total=claim.subsidy_total,
        items=[SubsidyItem(loan_id=str(loan.loan_id), county_code=loan.county_code, village_code=loan.village_code,
                           subsidy=item.subsidy) for item, loan in paid])
    await enqueue(session, source=COMPONENT, topic="interest-subsidy-claimed", subject=str(claim.claim_id),
                  data=payload.model_dump(mode="json"))
