"""What each money event asks finance to pay (contract §5, docs/conventions.md "Money events"): pure functions.

Every payment is made from the programme account of the county of the household the money is for: the first 6
digits of its village code (the event's `county_code` when no village code travels).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from finance.divisions import JURISDICTION_PATTERN, VILLAGE_PATTERN, county_of_village
from fupin_events.payloads import BenefitCancelled, BenefitDue
from fupin_kit.events.failures import PoisonEvent
from fupin_kit.money import MAX_AMOUNT, Money


@dataclass(frozen=True)
class PaymentOrder:
    """What an event asks finance to pay."""
    reference: str
    program: str
    county_code: str
    village_code: str | None
    payee: str
    amount: Decimal
    item_reference: str = ""


Reference = Annotated[str, Field(min_length=1, max_length=100)]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]


class _Located(BaseModel):
    model_config = ConfigDict(extra="ignore")

    county_code: str | None = Field(default=None, pattern=JURISDICTION_PATTERN)
    village_code: str | None = Field(default=None, pattern=VILLAGE_PATTERN)

    @model_validator(mode="after")
    def _has_a_county(self) -> "_Located":
        if self.county_code is None and self.village_code is None:
            raise ValueError("county_code or village_code is required")
        return self

    @property
    def paying_county(self) -> str:
        return county_of_village(self.village_code) if self.village_code else str(self.county_code)


class GrantAwarded(_Located):
    grant_id: Reference
    household_id: Reference
    amount: Money


class SettlementCompleted(_Located):
    settlement_id: Reference
    hospital_code: Code
    medical_assistance: Money
    supplementary: Money


class SettlementReversed(BaseModel):
    model_config = ConfigDict(extra="ignore")

    settlement_id: Reference
    reason_code: str | None = Field(default=None, max_length=100)


class InterestItem(_Located):
    loan_id: Reference
    subsidy: Money


class InterestSubsidyClaimed(BaseModel):
    model_config = ConfigDict(extra="ignore")

    claim_id: Reference
    bank_code: Code
    items: list[InterestItem] = Field(max_length=10_000)


class RiskCompensationClaimed(_Located):
    loan_id: Reference
    bank_code: Code
    compensation: Money


def grant_order(grant: GrantAwarded) -> PaymentOrder:
    """`grant-awarded` → education_grants, paid to the student's household."""
    return PaymentOrder(reference=grant.grant_id, program="education_grants", county_code=grant.paying_county,
                        village_code=grant.village_code, payee=f"household:{grant.household_id}", amount=grant.amount)


def settlement_order(settlement: SettlementCompleted) -> PaymentOrder:
    """`settlement-completed` → medical_assistance: medical assistance plus supplementary guarantee, to the hospital
    (the patient was treated first and pays later, so the hospital is owed the city's share)."""
    return PaymentOrder(reference=settlement.settlement_id, program="medical_assistance",
                        county_code=settlement.paying_county, village_code=settlement.village_code,
                        payee=f"hospital:{settlement.hospital_code}",
                        amount=settlement.medical_assistance + settlement.supplementary)


def interest_subsidy_orders(claim: InterestSubsidyClaimed) -> list[PaymentOrder]:
    """`interest-subsidy-claimed` → loan_interest_subsidy: one payment to the bank per loan with a subsidy, each from
    the county of that loan's household. Items with a zero subsidy (refused by microcredit) pay nothing."""
    return [PaymentOrder(reference=claim.claim_id, item_reference=item.loan_id, program="loan_interest_subsidy",
                         county_code=item.paying_county, village_code=item.village_code,
                         payee=f"bank:{claim.bank_code}", amount=item.subsidy)
            for item in claim.items if item.subsidy > Decimal("0")]


def risk_compensation_order(claim: RiskCompensationClaimed) -> PaymentOrder:
    """`risk-compensation-claimed` → risk_compensation, to the bank (70% of the unpaid principal, seed §五(十六))."""
    return PaymentOrder(reference=claim.loan_id, program="risk_compensation", county_code=claim.paying_county,
                        village_code=claim.village_code, payee=f"bank:{claim.bank_code}", amount=claim.compensation)


# Contract v2 §5: `benefit-due` kind → the programme account that pays it.
BENEFIT_PROGRAMS: dict[str, str] = {
    "minimum_living": "minimum_living",
    "temporary_assistance": "temporary_assistance",
    "eco_ranger": "eco_rangers",
    "relocation": "relocation",
}
WELFARE_PROGRAMS: tuple[str, ...] = tuple(BENEFIT_PROGRAMS.values())


def benefit_order(benefit: BenefitDue) -> PaymentOrder:
    """`benefit-due` → the welfare programme account of its kind, paid to the household from the county of its
    village (contract v2 §5). An amount past NUMERIC(14,2) can never be paid: the event is refused as content."""
    if not 0 < len(benefit.benefit_id) <= 100:
        raise PoisonEvent("benefit_id must hold 1 to 100 characters")
    if not Decimal("0") <= benefit.amount < MAX_AMOUNT:
        raise PoisonEvent("benefit amount must be between 0 and what NUMERIC(14,2) holds")
    return PaymentOrder(reference=benefit.benefit_id, program=BENEFIT_PROGRAMS[benefit.kind],
                        county_code=county_of_village(benefit.village_code), village_code=benefit.village_code,
                        payee=f"household:{benefit.household_id}", amount=benefit.amount)


def benefit_cancellation(data: dict[str, Any]) -> BenefitCancelled:
    return BenefitCancelled.model_validate(data)


# ---- the order in which an account's waiting payments are paid (issue 11 item 7; README "Payment order")

@dataclass(frozen=True)
class Waiting:
    """A payment waiting on its programme account. `barrier_at` is the account's `paid_out` counter at the moment
    the payment started waiting, plus its own amount: once the account has paid out that much, the payment has
    waited while others took as much money as it needs, and it becomes a barrier."""
    key: Any
    amount: Decimal
    barrier_at: Decimal


def barrier_at(paid_out: Decimal, amount: Decimal) -> Decimal:
    return paid_out + amount


def plan_payments(balance: Decimal, paid_out: Decimal, waiting: Iterable[Waiting], *,
                  older_barrier: Decimal | None = None) -> list[Any]:
    """Which waiting payments (given oldest first) to pay now from `balance`: the keys, in order.

    Oldest first; a payment that does not fit is skipped so smaller ones behind it are paid (the account never
    freezes behind one large payment); but a skipped payment may be overtaken only until the account has paid out,
    since it started waiting, as much as its own amount (`paid_out >= barrier_at`): from then on it is a barrier and
    nothing younger is paid before it, so the money that comes in next accumulates for it (no starvation).
    `older_barrier` is the smallest `barrier_at` of waiting payments older than those given (they did not fit).
    """
    barrier = older_barrier
    chosen: list[Any] = []
    for payment in waiting:
        if barrier is not None and paid_out >= barrier:
            break
        if payment.amount <= balance:
            chosen.append(payment.key)
            balance -= payment.amount
            paid_out += payment.amount
        else:
            barrier = payment.barrier_at if barrier is None else min(barrier, payment.barrier_at)
    return chosen
