"""One pydantic model per event payload (contract §6 and its v2 additions).

Ids, codes, dates and amounts only: never a name, a diagnosis, a plain or masked resident ID number. Consumers
ignore fields they do not know (a producer may add fields without a new topic version); removing or retyping a
field needs a new version of the topic (`fupin_events.topics`).
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

Money = Annotated[Decimal, Field(max_digits=16, decimal_places=2),
                  PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json")]
"""An amount in yuan; travels as a two-place decimal string (`"750.00"`)."""
Ratio = Annotated[Decimal, PlainSerializer(lambda v: str(v), return_type=str, when_used="json")]
"""A decimal that is not money (an incidence, a rate, a score); travels as a string."""
DivisionCode = Annotated[str, Field(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")]
VillageCode = Annotated[str, Field(pattern=r"^\d{12}$")]
CountyCode = Annotated[str, Field(pattern=r"^\d{6}$")]
PersonRef = Annotated[str, Field(min_length=1, max_length=64)]
HouseholdStatus = Literal["identified", "town_verified", "registered", "exited", "returned", "removed", "rejected"]


class Payload(BaseModel):
    """Base of every payload: unknown fields are ignored on input, so producers may add fields compatibly."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# --- registry -------------------------------------------------------------------------------------------------

class HouseholdMember(Payload):
    member_id: uuid.UUID
    person_ref: PersonRef
    birth_date: dt.date
    relation: str
    labor: Literal["full", "partial", "none"]
    school_stage: str | None = None
    boarding: bool = False


class HouseholdSnapshot(Payload):
    """The whole household after the change, on `household-registered`, `exit-certified`, `returned-to-poverty` and
    `household-removed`, so a consumer upserts its read model from any one of them. `sequence` is the registry's
    per-household change counter: a consumer keeps the snapshot with the highest sequence whatever the topic order."""

    household_id: uuid.UUID
    status: HouseholdStatus
    village_code: VillageCode
    town_code: Annotated[str, Field(pattern=r"^\d{9}$")]
    county_code: CountyCode
    causes: list[str] = []
    members: list[HouseholdMember]
    occurred_at: dt.datetime
    sequence: int | None = None


class HouseholdStatusChanged(Payload):
    """A status change no snapshot topic announces (`identified`, `town_verified`, `rejected`), on
    `household-status-changed`: ids, the division and the status only (no member, no person). These statuses come
    before any snapshot's in a household's life, in this order: identified, town_verified, then rejected (or a
    snapshot's status). A consumer orders them without a counter: it keeps the latest in that order and lets any
    snapshot win over them."""

    household_id: uuid.UUID
    status: HouseholdStatus
    previous_status: HouseholdStatus | None = None
    village_code: VillageCode
    town_code: Annotated[str, Field(pattern=r"^\d{9}$")]
    county_code: CountyCode
    occurred_at: dt.datetime


class DivisionUpdated(Payload):
    division_code: DivisionCode
    level: Literal["city", "county", "town", "village"]
    parent_code: DivisionCode | None = None
    name: str | None = None
    poor: bool
    population: int


class DivisionExited(Payload):
    division_code: DivisionCode
    level: Literal["city", "county", "town", "village"]
    poverty_incidence: Ratio
    threshold: Ratio
    poor_persons: int | None = None
    population: int | None = None


# --- microcredit ----------------------------------------------------------------------------------------------

class LoanDisbursed(Payload):
    loan_id: str
    bank_code: str
    person_ref: PersonRef
    household_id: uuid.UUID
    county_code: CountyCode
    village_code: VillageCode
    amount: Money
    term_months: int
    annual_rate: Ratio
    disbursed_on: dt.date
    maturity_date: dt.date


class SubsidyItem(Payload):
    loan_id: str
    county_code: CountyCode
    village_code: VillageCode
    subsidy: Money


class InterestSubsidyClaimed(Payload):
    claim_id: str
    bank_code: str
    period: str
    subsidy_total: Money
    items: list[SubsidyItem]


class RiskCompensationClaimed(Payload):
    loan_id: str
    bank_code: str
    household_id: uuid.UUID
    county_code: CountyCode
    village_code: VillageCode
    compensation: Money
    unpaid_principal: Money
    declared_on: dt.date


# --- education ------------------------------------------------------------------------------------------------

class GrantAwarded(Payload):
    grant_id: str
    person_ref: PersonRef
    household_id: uuid.UUID
    county_code: CountyCode
    village_code: VillageCode
    kind: str
    amount: Money
    academic_year: str
    enrollment_id: str
    stage: str


# --- medical --------------------------------------------------------------------------------------------------

class SettlementCompleted(Payload):
    settlement_id: str
    person_ref: PersonRef
    household_id: uuid.UUID
    county_code: CountyCode
    village_code: VillageCode
    hospital_code: str
    medical_assistance: Money
    supplementary: Money
    amount: Money
    # What the patient pays after every payer (the war map's `patient_paid`, contract §9); optional until medical
    # publishes it.
    patient_pays: Money | None = None


class SettlementReversed(Payload):
    settlement_id: str
    reason_code: str | None = None


# --- finance --------------------------------------------------------------------------------------------------

class PaymentCompleted(Payload):
    payment_id: str
    reference: str
    program: str
    payee: str
    amount: Money
    status: Literal["paid", "reversed"]
    item_reference: str | None = None
    county_code: CountyCode
    village_code: VillageCode | None = None
    paid_at: dt.datetime | None = None


class FundsAllocated(Payload):
    """Money moved from a fund into a programme account of a jurisdiction (a city or county code), on
    `funds-allocated`: at once, or when a checker approved it (maker-checker); a pending or refused allocation moved
    nothing and is not published."""

    allocation_id: uuid.UUID
    fund_id: uuid.UUID
    jurisdiction_code: CountyCode
    program: str
    amount: Money
    year: int
    allocated_at: dt.datetime


# --- assistance (v2) ------------------------------------------------------------------------------------------

class HelperAssigned(Payload):
    pairing_id: str
    helper_id: str
    household_id: uuid.UUID
    village_code: VillageCode
    county_code: CountyCode
    starts_on: dt.date


class HelperReleased(Payload):
    pairing_id: str
    helper_id: str
    household_id: uuid.UUID
    ended_on: dt.date
    reason_code: Literal["ended", "household_removed"]


class MeasureReference(Payload):
    kind: Literal["grant", "loan"]
    id: str


class PlanMeasureCompleted(Payload):
    measure_id: str
    household_id: uuid.UUID
    village_code: VillageCode
    county_code: CountyCode
    line: Literal["industry_employment", "relocation", "ecological", "education", "social_security"]
    cause: str
    completed_on: dt.date
    reference: MeasureReference | None = None


class AssessmentCompleted(Payload):
    assessment_id: str
    county_code: CountyCode
    year: int
    final: bool
    score: Money
    verdict: Literal["excellent", "pass", "fail"]
    vetoes: list[str]
    reasons: list[str]
    summons_id: str | None = None


# --- welfare (v2) ---------------------------------------------------------------------------------------------

BenefitKind = Literal["minimum_living", "temporary_assistance", "eco_ranger", "relocation"]


class BenefitDue(Payload):
    benefit_id: str
    kind: BenefitKind
    case_id: str | None = None
    household_id: uuid.UUID
    county_code: CountyCode
    village_code: VillageCode
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = None
    amount: Money


class BenefitCancelled(Payload):
    benefit_id: str
    household_id: uuid.UUID
    reason_code: Literal["household_removed"]


class RelocationCompleted(Payload):
    relocation_id: str
    household_id: uuid.UUID
    county_code: CountyCode
    village_code: VillageCode
    destination_village_code: VillageCode
    persons: int
    moved_in_on: dt.date
    benefit_id: str
