"""Admissions (入院登记) and eligibility checks for treat-first-pay-later."""

import datetime as dt
import uuid

from pydantic import BaseModel
from pydantic import Field as In
from sqlmodel import Field, SQLModel

from medical.columns import Timestamp, created_at
from medical.hospitals.models import HOSPITAL_CODE_PATTERN

ENCOUNTER_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"


class Admission(SQLModel, table=True):
    __tablename__ = "admissions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    encounter_id: str = Field(unique=True)
    request_hash: str
    person_ref: str = Field(index=True)
    masked_id_number: str
    hospital_code: str = Field(foreign_key="hospitals.code")
    admitted_on: dt.date
    deposit_required: bool
    created_at: Timestamp = created_at()


class EligibilityCheckIn(BaseModel):
    id_number: str = In(max_length=32)
    # Optional: the hospital asking; an HIS may name only its own (contract §0).
    hospital_code: str | None = In(None, pattern=HOSPITAL_CODE_PATTERN)


class EligibilityPublic(BaseModel):
    poor_population: bool
    treat_first_pay_later: bool
    deposit_required: bool
    masked_id_number: str


class AdmissionIn(BaseModel):
    encounter_id: str = In(pattern=ENCOUNTER_ID_PATTERN)
    id_number: str = In(max_length=32)
    hospital_code: str = In(pattern=HOSPITAL_CODE_PATTERN)
    admitted_on: dt.date


class AdmissionPublic(BaseModel):
    admission_id: uuid.UUID
    encounter_id: str
    hospital_code: str
    admitted_on: dt.date
    deposit_required: bool
    treat_first_pay_later: bool
    masked_id_number: str
