"""Settlements at discharge, and each person's yearly accumulators they add to."""

import datetime as dt
import uuid
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, StringConstraints
from pydantic import Field as In
from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from fupin_kit.errors import Unprocessable
from fupin_kit.money import Money
from fupin_kit.text import NoNul
from medical.admissions.models import ENCOUNTER_ID_PATTERN
from medical.amounts import Amount
from medical.columns import Timestamp, created_at, money, timestamp
from medical.hospitals.models import HOSPITAL_CODE_PATTERN

ICD10_PATTERN = r"^[A-Z][0-9]{2}(\.?[0-9A-Z]{1,4})?$"
Icd10Code = Annotated[str, StringConstraints(pattern=ICD10_PATTERN)]


class YearAccumulator(SQLModel, table=True):
    """What a person's capped layers paid in a calendar year, and the critical-illness yearly total.
    The row is locked FOR UPDATE while a settlement or a reversal changes it."""

    __tablename__ = "accumulators"

    person_ref: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    basic_insurance: Decimal = money()
    critical_illness_base: Decimal = money()
    critical_illness_insurance: Decimal = money()
    medical_assistance: Decimal = money()
    updated_at: Timestamp = timestamp()


class Settlement(SQLModel, table=True):
    __tablename__ = "settlements"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    encounter_id: str = Field(unique=True)
    request_hash: str
    status: str = "completed"  # completed | reversed
    person_ref: str = Field(index=True)
    masked_id_number: str
    household_id: uuid.UUID
    village_code: str
    county_code: str = Field(index=True)
    hospital_code: str = Field(foreign_key="hospitals.code", index=True)
    hospital_level: str
    admission_id: uuid.UUID | None = None
    discharged_on: dt.date
    year: int = Field(index=True)
    total_cost: Decimal = money()
    eligible_cost: Decimal = money()
    basic_insurance: Decimal = money()
    critical_illness_insurance: Decimal = money()
    medical_assistance: Decimal = money()
    supplementary: Decimal = money()
    patient_pays: Decimal = money()
    critical_illness_base: Decimal = money()  # what this settlement added to the yearly critical-illness total
    policy: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))  # the policy the figures came from
    diagnoses: list[str] = Field(sa_column=Column(JSONB, nullable=False))  # sensitive: never logged, sent, returned
    reversal_reason: str | None = None
    reversal_reason_code: str | None = None
    reversed_by: str | None = None
    reversed_at: Timestamp = timestamp()
    created_by: str
    created_at: Timestamp = created_at()


@dataclass(slots=True)
class SettlementRecord:
    """What a settlement's answer and event are made of (a `Settlement` row's columns less the diagnoses, the
    request's fingerprint and the reversal's details). The HIS's hot path builds this rather than a `Settlement`: an
    ORM instance and its attribute instrumentation cost more to build (56 µs) than the whole waterfall."""

    id: uuid.UUID
    encounter_id: str
    person_ref: str
    masked_id_number: str
    household_id: uuid.UUID
    village_code: str
    county_code: str
    hospital_code: str
    discharged_on: dt.date
    year: int
    total_cost: Decimal
    eligible_cost: Decimal
    basic_insurance: Decimal
    critical_illness_insurance: Decimal
    medical_assistance: Decimal
    supplementary: Decimal
    patient_pays: Decimal
    critical_illness_base: Decimal
    policy: dict[str, Any]
    status: str = "completed"
    reversed_at: dt.datetime | None = None
    created_at: dt.datetime | None = None


RECORD_FIELDS = tuple(field.name for field in fields(SettlementRecord))


class SettlementIn(BaseModel):
    encounter_id: str = In(pattern=ENCOUNTER_ID_PATTERN)
    id_number: str = In(max_length=32)
    hospital_code: str = In(pattern=HOSPITAL_CODE_PATTERN)
    total_cost: Amount
    eligible_cost: Amount
    diagnoses: list[Icd10Code] = In(default_factory=list, max_length=50)
    discharged_on: dt.date

    def eligible_cost_error(self) -> Unprocessable | None:
        """The cross-field rule of contract §4: eligible_cost above total_cost is 422 validation_error."""
        if self.eligible_cost <= self.total_cost:
            return None
        return Unprocessable("validation_error", "invalid request: eligible_cost",
                             errors=[{"field": "eligible_cost", "message": "must not be above total_cost"}])


class BreakdownPublic(BaseModel):
    basic_insurance: Money
    critical_illness_insurance: Money
    medical_assistance: Money
    supplementary: Money


class SettlementPublic(BaseModel):
    settlement_id: uuid.UUID
    encounter_id: str
    status: Literal["completed", "reversed"]
    hospital_code: str
    masked_id_number: str
    discharged_on: dt.date
    total_cost: Money
    eligible_cost: Money
    breakdown: BreakdownPublic
    patient_pays: Money
    deposit_required: bool
    policy_year: int
    policy: dict[str, Any]
    reversed_at: dt.datetime | None = None


class ReversalIn(BaseModel):
    reason: Annotated[str, NoNul] = In(min_length=1, max_length=500)
    reason_code: Literal["billing_error", "duplicate", "not_eligible", "other"] = "other"
